/** sync.run / sync.cancel / sync.status and buffer.status: the jobs of SyncJobs and what the buffer tracks. */
import type { BufferStatus } from '../../../shared/contract.js';
import { toAppError } from '../../../shared/errors.js';
import type { CallContext, Handlers } from '../../ipc/router.js';
import type { AppContext } from '../types.js';
import type { SyncJobs, Trigger } from './jobs.js';
import { toUiRun } from './ui.js';

type RunHandlers = Pick<Handlers, 'sync.run' | 'sync.cancel' | 'sync.status' | 'buffer.status'>;

/** How the journal names who asked: the headless entry points say so, the window and the bridge are "manual". */
const TRIGGER_OF: Record<CallContext['host'], Trigger> = { electron: 'manual', bridge: 'manual', test: 'manual', cli: 'cli', demo: 'demo' };

export function runHandlers(ctx: AppContext, jobs: SyncJobs, nextRunAt: () => string | null): RunHandlers {
  const log = ctx.logger.child({ feature: 'sync' });
  const syncAllowed = async (): Promise<boolean> => {
    const guard = ctx.services.licenceGuard();
    if (guard.allowsSync) return guard.allowsSync();
    try {
      await guard.assertSyncAllowed();
      return true;
    } catch {
      return false;
    }
  };
  return {
    'sync.run': async ({ flow, wait }, call) => {
      const { started, done } = jobs.launch(flow, TRIGGER_OF[call?.host ?? 'test']);
      if (!wait) return { runId: await started };
      started.catch(() => undefined); // its refusal, if any, is `done`'s
      const summaries = await done;
      const runs = await jobs.journalOf(summaries);
      return { runId: summaries[0]?.runId ?? (await started), runs };
    },
    'sync.cancel': (input) => ({ cancelled: jobs.cancel(input?.runId) }),
    'sync.status': async () => {
      let lastRuns: ReturnType<typeof toUiRun>[] = [];
      try {
        lastRuns = (await (await jobs.buffer()).listRuns(10)).map(toUiRun);
      } catch (e) {
        log.warn('reading the last runs failed', { detail: toAppError(e).detail });
      }
      return { running: jobs.currentRun(), lastRuns, nextRunAt: nextRunAt(), scheduleEnabled: ctx.settings.get().schedule.enabled, syncAllowed: await syncAllowed() };
    },
    'buffer.status': async (): Promise<BufferStatus> => {
      const store = await jobs.buffer();
      const records = (await store.countRecords()).map((r) => ({ ...r, kind: r.kind === 'devis' ? ('devis' as const) : ('chantier' as const) }));
      return {
        records,
        slots: await store.countSlots(),
        dirtyKeys: await store.countDirtyKeys(),
        leases: (await store.listLeases()).map((l) => ({ flow: l.flow, machine: l.machine, expiresAt: l.expires_at.toISOString() })),
      };
    },
  };
}
