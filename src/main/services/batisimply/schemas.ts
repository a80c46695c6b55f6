/**
 * zod schemas of what BatiSimply and Keycloak answer, and the tolerant list-envelope reader.
 * Strict on the fields the connector uses (domain schemas), tolerant of everything else.
 */
import { z } from 'zod';
import { AppError } from '../../../shared/errors.js';
import { count } from '../../../shared/plural.js';

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive(),
  refresh_token: z.string().min(1).optional(),
  refresh_expires_in: z.coerce.number().min(0).optional(),
  token_type: z.string().optional(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

export const keycloakErrorSchema = z.object({
  error: z.string(),
  error_description: z.string().optional(),
});

/** JHipster problem body (errors of the API). */
export const problemSchema = z
  .object({
    title: z.string().optional(),
    detail: z.string().optional(),
    message: z.string().optional(),
    errorKey: z.string().optional(),
    fieldErrors: z.array(z.object({ field: z.string().optional(), message: z.string().optional() }).loose()).optional(),
  })
  .loose();

export const createdEntitySchema = z.object({ id: z.union([z.string(), z.number()]).transform(String) }).loose();

export const LIST_KEYS = ['elements', 'content', 'items', 'data'] as const;
const TOTAL_KEYS = ['totalElements', 'total', 'totalCount', 'count'] as const;

export function badResponse(what: string, detail: string, cause?: unknown): AppError {
  return new AppError(
    'BS_BAD_RESPONSE',
    `BatiSimply a renvoyé une réponse illisible pour ${what}. Réessayez plus tard ; si le problème persiste, contactez le support BatiSimply.`,
    { detail, cause, retryable: true },
  );
}

/** Reads a list answer: a bare array or an envelope ({elements|content|items|data: [...]}), and its total if any. */
export function readList(json: unknown, totalHeader: string | undefined, what: string): { items: unknown[]; total: number | null } {
  let items: unknown[] | undefined;
  let total: number | null = null;
  if (Array.isArray(json)) {
    items = json;
  } else if (json !== null && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    for (const k of LIST_KEYS) {
      if (Array.isArray(o[k])) {
        items = o[k] as unknown[];
        break;
      }
    }
    for (const k of TOTAL_KEYS) {
      if (typeof o[k] === 'number' && Number.isFinite(o[k])) {
        total = o[k] as number;
        break;
      }
    }
    const meta = o.meta as Record<string, unknown> | undefined;
    if (total === null && meta && typeof meta === 'object' && typeof meta.total === 'number') total = meta.total;
  }
  if (!items) {
    const shape = json === null ? 'null' : Array.isArray(json) ? 'array' : typeof json === 'object' ? `object{${Object.keys(json as object).slice(0, 8).join(',')}}` : typeof json;
    throw badResponse(what, `expected a list (array or elements/content/items/data envelope), got ${shape}`);
  }
  if (total === null && totalHeader !== undefined && /^\d+$/.test(totalHeader.trim())) total = Number(totalHeader.trim());
  return { items, total };
}

/** Validates each item; the first invalid one makes the whole answer a BS_BAD_RESPONSE (never a crash). */
export function parseItems<S extends z.ZodType>(items: unknown[], schema: S, what: string): Array<z.output<S>> {
  const out: Array<z.output<S>> = [];
  for (let i = 0; i < items.length; i++) {
    const r = schema.safeParse(items[i]);
    if (!r.success) {
      throw badResponse(what, `item ${i}: ${summarizeIssues(r.error)}`);
    }
    out.push(r.data);
  }
  return out;
}

/** A list item that failed validation: its id when readable, and a French reason (which fields, what is wrong). */
export interface InvalidListItem {
  id: string | null;
  reason: string;
  /** Deduplication key: `id:<id>`, or the item's JSON when it has no readable id. */
  key: string;
  /** Left out because different items came under this id in one listing (not because it is unreadable). */
  conflict?: boolean;
}

/**
 * Validates each item on its own: the valid ones (with their raw JSON) and the invalid ones (with a French reason).
 * One broken item never hides the others.
 */
export function partitionItems<S extends z.ZodType>(
  items: unknown[],
  schema: S,
): { valid: Array<{ item: z.output<S>; raw: Record<string, unknown> }>; invalid: InvalidListItem[] } {
  const valid: Array<{ item: z.output<S>; raw: Record<string, unknown> }> = [];
  const invalid: InvalidListItem[] = [];
  for (const raw of items) {
    const r = schema.safeParse(raw);
    if (r.success) {
      valid.push({ item: r.data, raw: (raw ?? {}) as Record<string, unknown> });
      continue;
    }
    const id = readableId(raw);
    let key: string;
    try {
      key = id !== null ? `id:${id}` : `raw:${JSON.stringify(raw)}`;
    } catch {
      key = `raw:${String(raw)}`;
    }
    invalid.push({ id, reason: frenchIssues(r.error, raw), key });
  }
  return { valid, invalid };
}

/** The item's `id` as text when it is a non-empty string or a finite number, else null. */
export function readableId(raw: unknown): string | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const id = (raw as Record<string, unknown>).id;
  if (typeof id === 'string' && id.trim() !== '') return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return null;
}

const FRENCH_TYPES: Record<string, string> = {
  string: 'un texte',
  number: 'un nombre',
  boolean: 'vrai/faux',
  object: 'un objet',
  array: 'une liste',
  null: 'vide (null)',
  undefined: 'absent',
};

function frenchTypeOf(v: unknown): string {
  if (v === null) return FRENCH_TYPES.null!;
  if (Array.isArray(v)) return FRENCH_TYPES.array!;
  if (typeof v === 'number' && !Number.isFinite(v)) return 'un nombre invalide';
  return FRENCH_TYPES[typeof v] ?? typeof v;
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** French description of why an item is invalid: « champ « user » manquant ; champ « totalTimeMinutes » : un nombre attendu, reçu un texte ». */
export function frenchIssues(err: z.ZodError, raw: unknown): string {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return `l'élément n'est pas un objet (reçu ${frenchTypeOf(raw)})`;
  const parts: string[] = [];
  for (const issue of err.issues.slice(0, 5)) {
    const path = issue.path as PropertyKey[];
    const name = path.map(String).join('.') || '(élément)';
    const value = valueAt(raw, path);
    if (value === undefined) {
      parts.push(`champ « ${name} » manquant`);
    } else if (issue.code === 'invalid_type' || issue.code === 'invalid_union') {
      const expected = issue.code === 'invalid_type' ? FRENCH_TYPES[String(issue.expected)] : undefined;
      parts.push(`champ « ${name} » de type incorrect (${expected ? `${expected} attendu, ` : ''}reçu ${frenchTypeOf(value)})`);
    } else if (issue.code === 'custom' && issue.message) {
      // Our own checks (schemas in shared/domain.ts) say what is wrong, in French.
      parts.push(`champ « ${name} » invalide (${issue.message})`);
    } else {
      parts.push(`champ « ${name} » invalide`);
    }
  }
  const more = err.issues.length > 5 ? ` (et ${count(err.issues.length - 5, 'autre problème', 'autres problèmes')})` : '';
  return parts.join(' ; ') + more;
}

export function parseOne<S extends z.ZodType>(json: unknown, schema: S, what: string): z.output<S> {
  const r = schema.safeParse(json);
  if (!r.success) throw badResponse(what, summarizeIssues(r.error));
  return r.data;
}

export function summarizeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
