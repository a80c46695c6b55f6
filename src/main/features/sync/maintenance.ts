/**
 * Réglages › Maintenance and `connecteur maintenance`: maintenance.verify / recompare / purgeJournal /
 * forget / log. Each action is written to the buffer's maintenance log (which PC, when, what) and to the
 * technical log.
 *
 * Recompare, forget: nothing may run meanwhile — not here (the jobs of this app) and not on another PC
 * sharing the buffer (the flow's lease is taken for the time of the action).
 *  - Recomparer « envoi »: the last pushed hash of every record is forgotten, then a push run compares each
 *    record with its BatiSimply project (read again); the project ids are kept: nothing is created twice.
 *  - Recomparer « heures »: every SuiviMO row the buffer says it wrote is read back from Sage Batigest and
 *    compared, and every written row is compared with the sum of its slots; the rows that differ are marked
 *    to be rewritten, then an hours run reads the whole window again from BatiSimply and rewrites them at
 *    their key (upsert: never a second row).
 *  - Oublier l'état: see BufferMaintenance.forget; asks for the word OUBLIER (checked here, not only in the UI).
 */
import { randomUUID } from 'node:crypto';
import type { MaintenanceEntry, RunSummary as UiRunSummary } from '../../../shared/contract.js';
import { FORGET_CONFIRMATION } from '../../../shared/contract.js';
import type { SuiviMoRow } from '../../../shared/domain.js';
import { AppError, toAppError } from '../../../shared/errors.js';
import { count } from '../../../shared/plural.js';
import { SOFTWARE_LABELS } from '../../../shared/settings.js';
import type { Handlers } from '../../ipc/router.js';
import { BufferMaintenance } from '../../services/buffer/maintenance.js';
import { keyString, type BufferStore, type FlowName, type KeyRef } from '../../services/buffer/store.js';
import type { AppContext } from '../types.js';
import type { SyncJobs } from './jobs.js';

type MaintenanceHandlers = Pick<Handlers, 'maintenance.verify' | 'maintenance.recompare' | 'maintenance.purgeJournal' | 'maintenance.forget' | 'maintenance.log'>;

const FLOW_WORDS: Record<FlowName, string> = { push: "l'envoi vers BatiSimply", hours: "l'import des heures", imports: "l'import des exports dans Batigest" };
const LEASE_TTL_MS = 10 * 60_000;
const READ_BATCH = 500;

/** Written SuiviMO rows that Batigest no longer holds as written (missing, or other values). Pure. */
export function suiviMoDifferences(written: { key: KeyRef; minutes: number; trajet: number; panier: number }[], rows: SuiviMoRow[]): { key: KeyRef; missing: boolean }[] {
  const byKey = new Map(rows.map((r) => [keyString({ codeChantier: r.codeChantier, codeSalarie: r.codeSalarie, day: r.date }), r]));
  const out: { key: KeyRef; missing: boolean }[] = [];
  for (const w of written) {
    const cur = byKey.get(keyString(w.key));
    if (!cur) {
      out.push({ key: w.key, missing: true });
      continue;
    }
    const hours = Math.round((w.minutes / 60) * 100) / 100;
    if (Math.abs(cur.nbH0 - hours) >= 0.005 || cur.nbH3 !== (w.trajet ? 1 : 0) || cur.nbH4 !== (w.panier ? 1 : 0)) out.push({ key: w.key, missing: false });
  }
  return out;
}

export function maintenanceHandlers(ctx: AppContext, jobs: SyncJobs, changed: () => void): MaintenanceHandlers {
  const log = ctx.logger.child({ feature: 'maintenance' });

  const journal = async (store: BufferStore, e: Omit<MaintenanceEntry, 'id' | 'at' | 'machine'>): Promise<void> => {
    log.info('maintenance action', { action: e.action, flow: e.flow, outcome: e.outcome, message: e.message });
    try {
      await new BufferMaintenance(store).log({ ...e, at: ctx.clock.now(), machine: ctx.machineName() });
    } catch (err) {
      log.warn('writing the maintenance log failed', { detail: toAppError(err).detail });
    }
  };

  /** Journals an action that failed (with its French reason), then lets the error go to the caller. */
  const failed = async (action: MaintenanceEntry['action'], flow: FlowName | null, e: unknown): Promise<never> => {
    const err = toAppError(e);
    const store = await jobs.openBuffer().catch(() => null);
    if (store) await journal(store, { action, flow, outcome: 'failed', message: `Échec : ${err.message}` });
    else log.warn('maintenance action failed', { action, flow, code: err.code });
    throw e;
  };

  /** Runs `fn` with nothing running here and the flows' leases held (no other PC runs them meanwhile). */
  const exclusive = async <T>(flows: FlowName[], fn: (store: BufferStore) => Promise<T>): Promise<T> => {
    if (jobs.runningFlows().length > 0) {
      throw new AppError('SYNC_ALREADY_RUNNING', 'Une synchronisation est en cours sur ce poste : attendez sa fin (ou annulez-la) avant cette opération de maintenance.');
    }
    const store = await jobs.buffer();
    const holder = `${ctx.machineName()}#maintenance#${randomUUID()}`;
    const held: FlowName[] = [];
    try {
      for (const flow of flows) {
        const l = await store.acquireLease({ flow, holder, machine: ctx.machineName(), runId: 'maintenance', now: ctx.clock.now(), ttlMs: LEASE_TTL_MS });
        if (!l.acquired) {
          throw new AppError('BUFFER_LOCKED', `${FLOW_WORDS[flow][0]!.toUpperCase()}${FLOW_WORDS[flow].slice(1)} est en cours sur le poste ${l.lease?.machine ?? 'un autre poste'} : réessayez à la fin de son exécution.`, {
            detail: `lease held by ${l.lease?.holder ?? '?'}`,
          });
        }
        held.push(flow);
      }
      return await fn(store);
    } finally {
      for (const flow of held) await store.releaseLease(flow, holder).catch(() => undefined);
    }
  };

  /** Prepares « Recomparer » for the hours flow: the SuiviMO rows to rewrite, marked dirty. */
  const prepareHours = async (store: BufferStore): Promise<string> => {
    const rt = await jobs.getRuntime();
    const m = new BufferMaintenance(store);
    const written = await m.writtenRows();
    const diffs: { key: KeyRef; missing: boolean }[] = [];
    for (let i = 0; i < written.length; i += READ_BATCH) {
      const part = written.slice(i, i + READ_BATCH);
      const rows = await rt.batigest.readSuiviMo(part.map((w) => ({ codeChantier: w.key.codeChantier, codeSalarie: w.key.codeSalarie, date: w.key.day })));
      diffs.push(...suiviMoDifferences(part, rows));
    }
    const aggregate = await m.aggregateMismatches();
    const dirty = new Map<string, KeyRef>();
    for (const d of diffs) dirty.set(keyString(d.key), d.key);
    for (const k of aggregate) dirty.set(keyString(k), k);
    await m.markDirty([...dirty.values()]);
    const sw = SOFTWARE_LABELS[ctx.settings.get().software];
    const missing = diffs.filter((d) => d.missing).length;
    const parts = [
      `${count(written.length, 'ligne SuiviMO relue', 'lignes SuiviMO relues')} dans ${sw}`,
      diffs.length > 0
        ? `${count(diffs.length, 'diffère', 'diffèrent')} de ce que le connecteur avait écrit${missing > 0 ? ` (dont ${count(missing, 'absente', 'absentes')})` : ''}`
        : 'toutes conformes à ce que le connecteur avait écrit',
      aggregate.length > 0 ? `${count(aggregate.length, 'ne correspond', 'ne correspondent')} plus à ses créneaux` : null,
    ].filter(Boolean);
    return `${parts.join(' ; ')}. ${dirty.size > 0 ? `${count(dirty.size, 'ligne sera réécrite', 'lignes seront réécrites')} à sa clé` : 'Rien à réécrire'} ; les créneaux de toute la période sont relus dans BatiSimply.`;
  };

  return {
    'maintenance.verify': async () => {
      const store = await jobs.buffer();
      const result = await new BufferMaintenance(store).verify();
      const problems = result.checks.filter((c) => c.level !== 'ok');
      await journal(store, {
        action: 'verify',
        flow: null,
        outcome: result.ok ? (problems.length ? 'warning' : 'ok') : 'failed',
        message: problems.length ? `Vérification de la base tampon : ${problems.map((c) => c.message).join(' ')}` : `Vérification de la base tampon : aucune anomalie (schéma version ${result.schemaVersion}).`,
      });
      return result;
    },

    'maintenance.recompare': async ({ flow, wait }) => {
      const message = await exclusive([flow], async (store) => {
        const text =
          flow === 'push'
            ? `${count(await new BufferMaintenance(store).resetPushComparison(), 'chantier ou devis sera comparé', 'chantiers ou devis seront comparés')} à son projet BatiSimply, relu ; aucun projet n'est créé en double.`
            : await prepareHours(store);
        await journal(store, { action: 'recompare', flow, outcome: 'ok', message: `Recomparaison de ${FLOW_WORDS[flow]} : ${text}` });
        return text;
      }).catch((e: unknown) => failed('recompare', flow, e));
      changed();
      const { started, done } = jobs.launch(flow, 'manual');
      if (!wait) return { runId: await started, message };
      started.catch(() => undefined);
      const summaries = await done;
      const runs: UiRunSummary[] = await jobs.journalOf(summaries);
      return { runId: summaries[0]?.runId ?? (await started), message, runs };
    },

    'maintenance.purgeJournal': async ({ olderThanDays }) => {
      const store = await jobs.buffer();
      const before = new Date(ctx.clock.now().getTime() - olderThanDays * 86_400_000);
      const r = await new BufferMaintenance(store).purgeJournal(before).catch((e: unknown) => failed('purge', null, e));
      const message = `Journal purgé des exécutions de plus de ${count(olderThanDays, 'jour', 'jours')} : ${count(r.runs, 'exécution supprimée', 'exécutions supprimées')}, ${count(r.items, 'ligne de détail', 'lignes de détail')}.`;
      await journal(store, { action: 'purge', flow: null, outcome: 'ok', message });
      changed();
      return { runsDeleted: r.runs, itemsDeleted: r.items, message };
    },

    'maintenance.forget': async ({ flow, confirm }) => {
      if (confirm.trim().toUpperCase() !== FORGET_CONFIRMATION) {
        throw new AppError('INVALID_INPUT', `Pour confirmer, tapez ${FORGET_CONFIRMATION} dans le champ de confirmation.`);
      }
      const { deleted, message } = await exclusive([flow], async (store) => {
        const del = await new BufferMaintenance(store).forget(flow);
        const total = Object.values(del).reduce((a, b) => a + b, 0);
        const text =
          flow === 'push'
            ? `État de ${FLOW_WORDS.push} oublié (${count(total, 'chantier ou devis', 'chantiers ou devis')}) : le prochain envoi relira tout et reprendra les projets BatiSimply existants par leur code.`
            : `État de ${FLOW_WORDS.hours} oublié (${count(del.time_slots ?? 0, 'créneau', 'créneaux')}, ${count(del.suivimo_written ?? 0, 'ligne SuiviMO suivie', 'lignes SuiviMO suivies')}) : le prochain import relira toute la période et réécrira chaque ligne à sa clé.`;
        await journal(store, { action: 'forget', flow, outcome: 'ok', message: text });
        return { deleted: del, message: text };
      }).catch((e: unknown) => failed('forget', flow, e));
      changed();
      return { deleted, message };
    },

    'maintenance.log': async () => new BufferMaintenance(await jobs.buffer()).listLog(50),
  };
}
