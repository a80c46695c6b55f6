/** Buffer rows of the journal → what the contract shows (runs, items), and the journal's CSV. */
import type { JournalItem, RunSummary as UiRunSummary } from '../../../shared/contract.js';
import type { JournalItemRow } from '../../services/buffer/journal.js';
import type { RunRow, RunStatus as BufferRunStatus } from '../../services/buffer/store.js';

const UI_STATUS: Record<BufferRunStatus, UiRunSummary['status']> = {
  running: 'running',
  succeeded: 'success',
  partial: 'partial',
  failed: 'failed',
  cancelled: 'cancelled',
  interrupted: 'failed',
};

const UI_TRIGGERS = new Set(['manual', 'schedule', 'cli', 'startup']);

/** Contract status filter → buffer statuses. */
export function bufferStatuses(s: UiRunSummary['status'] | undefined): BufferRunStatus[] | undefined {
  if (!s) return undefined;
  if (s === 'success') return ['succeeded'];
  if (s === 'failed') return ['failed', 'interrupted'];
  return [s];
}

export function toUiRun(r: RunRow): UiRunSummary {
  return {
    id: r.id,
    flow: r.flow,
    // The mode recorded when the run started (null for runs recorded before the buffer kept it).
    mode: r.flow === 'push' ? (r.mode ?? null) : null,
    trigger: (UI_TRIGGERS.has(r.trigger) ? r.trigger : r.trigger === 'demo' ? 'cli' : 'manual') as UiRunSummary['trigger'],
    machineName: r.machine,
    status: UI_STATUS[r.status],
    startedAt: r.started_at.toISOString(),
    endedAt: r.ended_at?.toISOString() ?? null,
    counts: { created: r.created, updated: r.updated, unchanged: r.unchanged, skipped: r.skipped, failed: r.failed, conflicts: r.conflicts, writes: r.writes },
    message: r.message,
    jobId: r.job_id ?? null,
  };
}

/** Buffer record key (`chantier:00000101`, `slot:42`, `user:<uuid>`, `suivimo:A|B|day`…) → kind and key for the UI. */
export function splitKey(recordKey: string): { kind: JournalItem['kind']; key: string } {
  const i = recordKey.indexOf(':');
  const prefix = i >= 0 ? recordKey.slice(0, i) : '';
  const rest = i >= 0 ? recordKey.slice(i + 1) : recordKey;
  switch (prefix) {
    case 'chantier':
      return { kind: 'chantier', key: rest };
    case 'devis':
      return { kind: 'devis', key: rest };
    case 'slot':
    case 'slots':
      return { kind: 'timeslot', key: rest };
    case 'suivimo':
      return { kind: 'timeslot', key: rest.split('|').join('/') };
    case 'user':
      return { kind: 'salarie', key: rest };
    case 'import':
      return { kind: 'import', key: rest };
    default:
      return { kind: 'project', key: recordKey };
  }
}

export function toUiItem(r: JournalItemRow): JournalItem {
  const { kind, key } = splitKey(r.record_key);
  return { id: String(r.id), kind, key, label: r.label, action: r.ui_action, reason: r.reason, code: null, at: r.at.toISOString() };
}

/** One CSV cell: quoted, inner quotes doubled, and a leading = + - @ (or tab/CR) neutralised so a spreadsheet never runs it. */
export function csvCell(v: string | number | null | undefined): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export function toCsv(header: string[], rows: (string | number | null)[][]): string {
  const lines = [header, ...rows].map((r) => r.map(csvCell).join(';'));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** Local date-time for the CSV and file names (the journal's reader is in France). */
export function localStamp(iso: string | null, tz: string): string {
  if (!iso) return '';
  try {
    return new Intl.DateTimeFormat('fr-FR', { timeZone: tz, dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso));
  } catch {
    return iso;
  }
}
