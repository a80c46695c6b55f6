/**
 * Every BatiSimply / Keycloak path the connector uses, in one table, so a path can be corrected in one place.
 * Facts from SPEC §2 (reference connector); the users list follows JHipster's user management resource.
 */
export const BATISIMPLY_PATHS = {
  /** Keycloak token endpoint, relative to the SSO base URL. */
  token: (realm: string): string => `/auth/realms/${encodeURIComponent(realm)}/protocol/openid-connect/token`,
  /** Projects: list (GET, paged with page/size), create (POST). */
  projects: '/api/project',
  /** One project: get (GET), update with the full entity (PUT). */
  project: (id: string): string => `/api/project/${encodeURIComponent(id)}`,
  /** JHipster criteria filter on the projects list; ignored by a server without filtering (the client copes). */
  projectCodeFilter: 'projectCode.equals',
  /** Time slots of every user over a window: startDate/endDate as ISO-8601 UTC (…Z). */
  timeSlots: '/api/timeSlotManagement/allUsers',
  /** Users (JHipster user management), for the employee mapping. */
  users: '/api/users',
  /** Quotes (devis mode). */
  quotes: '/api/quote',
} as const;

/** Query parameter names of JHipster paging. */
export const PAGING_PARAMS = { page: 'page', size: 'size', sort: 'sort' } as const;

/**
 * The token URL from the SSO setting. Accepts a bare host (`https://sso.example`), a base ending in `/auth`, or
 * the full token URL (as the reference connector's BATISIMPLY_SSO_URL was).
 */
export function tokenUrl(ssoUrl: string, realm: string): string {
  const base = ssoUrl.trim().replace(/\/+$/, '');
  if (/\/protocol\/openid-connect\/token$/.test(base)) return base;
  const path = BATISIMPLY_PATHS.token(realm || 'jhipster');
  if (base.endsWith('/auth')) return base + path.slice('/auth'.length);
  return base + path;
}

/** Joins the API base URL and a path (the API base may carry a prefix). */
export function apiUrl(base: string, path: string, query?: Record<string, string | number | undefined>): string {
  const u = new URL(base.trim().replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
  return u.toString();
}
