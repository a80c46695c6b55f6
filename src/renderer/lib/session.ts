/**
 * What the window keeps for its session:
 *  - the mapping page's salariés and BatiSimply users (slow to fetch on the real API): kept until
 *    « Actualiser », a finished run (the hours waiting change) or saved connection settings;
 *  - the leave guard: a page with unsaved changes asks before the window goes elsewhere.
 */
import type { MappingView } from '../../shared/contract.js';

let mappingView: MappingView | null = null;

export const mappingSession = {
  get: (): MappingView | null => mappingView,
  set: (v: MappingView): void => {
    mappingView = v;
  },
  forget: (): void => {
    mappingView = null;
  },
};

type Guard = () => string | null;
let guard: Guard | null = null;

/** A page with unsaved changes sets the question to ask before leaving (null: nothing to lose). */
export function setLeaveGuard(g: Guard | null): void {
  guard = g;
}

/** Whether the window may leave the current page: asks the user when something would be lost. */
export function mayLeave(): boolean {
  const question = guard?.() ?? null;
  if (!question) return true;
  if (!window.confirm(question)) return false;
  guard = null;
  return true;
}
