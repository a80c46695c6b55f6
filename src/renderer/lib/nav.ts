/**
 * The window's routes as real links: `#/journal?run=<id>&action=failed`, `#/settings?section=maintenance`,
 * `#/mapping`. A notification's click, the tray and the dashboard's « À traiter » links all land here.
 */
import type { NavTarget } from '../../shared/contract.js';

export type Page = 'dashboard' | 'mapping' | 'journal' | 'settings' | 'licence';
export const PAGES: readonly Page[] = ['dashboard', 'mapping', 'journal', 'settings', 'licence'];
/** Pages asked for by a PIN when the protection is on. */
export const PROTECTED_PAGES: ReadonlySet<Page> = new Set(['mapping', 'settings']);

export interface Route {
  page: Page;
  runId?: string;
  action?: 'failed' | 'skipped';
  section?: NonNullable<NavTarget['section']>;
}

const SECTIONS = new Set(['maintenance', 'protection', 'updates', 'schedule']);

/** `#/journal?run=…&action=failed` → the route (unknown parts dropped); `#/setup` → null (the wizard). */
export function parseHash(hash: string): Route | null {
  const [pathPart = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  if (pathPart === 'setup') return null;
  const page = (PAGES as readonly string[]).includes(pathPart) ? (pathPart as Page) : 'dashboard';
  const q = new URLSearchParams(query);
  const route: Route = { page };
  const run = q.get('run');
  if (page === 'journal' && run && /^[\w-]{1,64}$/.test(run)) route.runId = run;
  const action = q.get('action');
  if (route.runId && (action === 'failed' || action === 'skipped')) route.action = action;
  const section = q.get('section');
  if (page === 'settings' && section && SECTIONS.has(section)) route.section = section as Route['section'] & string;
  return route;
}

/** The link of a page (and what to show in it). */
export function hrefOf(t: NavTarget | Route): string {
  if (t.page === 'setup') return '#/setup';
  const q = new URLSearchParams();
  if (t.runId) q.set('run', t.runId);
  if (t.action) q.set('action', t.action);
  if (t.section) q.set('section', t.section);
  const s = q.toString();
  return `#/${t.page}${s ? `?${s}` : ''}`;
}
