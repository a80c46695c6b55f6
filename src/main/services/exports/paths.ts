/**
 * Every path of the exports API (seed 003, Saxium-style) in one table, so that a path can be corrected in one place.
 * The API key travels in one header (EXPORTS_AUTH_HEADER), only to the API's own origin.
 */
export const EXPORTS_PATHS = {
  /** Exports waiting for this agent: `?limit=50&agentId=…`. */
  pending: '/api/batigest/exports/pending',
  /** The file of one export (when the listing gives no download address of its own). */
  download: (id: string): string => `/api/batigest/exports/${encodeURIComponent(id)}/download`,
  /** The export was imported by Batigest. */
  markSynced: (id: string): string => `/api/batigest/exports/${encodeURIComponent(id)}/mark-synced`,
  /** The export could not be imported: `{ agentId, error }`. */
  markError: (id: string): string => `/api/batigest/exports/${encodeURIComponent(id)}/mark-error`,
  /** Health of the queue (pending, synced, errors): the connection test. */
  status: '/api/batigest/status',
} as const;

/** The authentication header of the API (its value is the secret `imports.apiKey`). */
export const EXPORTS_AUTH_HEADER = 'x-api-key';

/** `base + path` with one slash between; the query string from `query` (values encoded). */
export function exportsUrl(apiUrl: string, path: string, query?: Record<string, string>): string {
  const base = apiUrl.trim().replace(/\/+$/, '');
  const qs = query ? `?${new URLSearchParams(query).toString()}` : '';
  return `${base}${path}${qs}`;
}
