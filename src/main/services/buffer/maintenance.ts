/**
 * Maintenance statements of the buffer (Réglages › Maintenance and `connecteur maintenance`): the checks of
 * « Vérifier la base tampon », what « Recomparer » resets, the journal purge, « Oublier l'état » of a flow,
 * and the maintenance log. Every statement is parameterised; rows are validated with zod.
 *
 * The orchestration (leases, the SuiviMO comparison through the gateway, the run that follows) is the
 * maintenance feature's (src/main/features/maintenance.ts); this module only owns the SQL.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { BufferCheck, MaintenanceEntry } from '../../../shared/contract.js';
import { count } from '../../../shared/plural.js';
import type { BufferQueryable } from './db.js';
import { LATEST_BUFFER_VERSION } from './migrations.js';
import type { BufferStore, FlowName, KeyRef } from './store.js';

const n = (v: unknown): number => Number(v ?? 0);
const TABLES = ['sync_records', 'time_slots', 'slot_keys', 'suivimo_written', 'employees', 'runs', 'run_items', 'leases', 'maintenance_log', 'machines'] as const;

type Check = BufferCheck['checks'][number];

/** The checks run by « Vérifier la base tampon »: each counts the rows concerned and shows a few keys. */
const CHECKS: { id: string; level: 'warning' | 'error'; sql: string; ok: string; found: (count: number) => string }[] = [
  {
    id: 'orphan-slot-keys',
    level: 'warning',
    sql: `SELECT k.slot_id AS key FROM slot_keys k LEFT JOIN time_slots t ON t.slot_id = k.slot_id WHERE t.slot_id IS NULL`,
    ok: 'Aucune clé SuiviMO sans son créneau.',
    found: (c) => `${count(c, 'clé SuiviMO orpheline', 'clés SuiviMO orphelines')} (créneau absent de la base tampon) : « Recomparer » sur les heures les corrige.`,
  },
  {
    id: 'written-without-key',
    level: 'warning',
    sql: `SELECT t.slot_id AS key FROM time_slots t LEFT JOIN slot_keys k ON k.slot_id = t.slot_id WHERE t.state = 'written' AND k.slot_id IS NULL`,
    ok: 'Chaque créneau écrit a sa clé SuiviMO.',
    found: (c) => `${count(c, 'créneau marqué écrit', 'créneaux marqués écrits')} sans clé SuiviMO : il sera réécrit au prochain passage.`,
  },
  {
    id: 'written-without-slot',
    level: 'warning',
    sql: `SELECT w.code_chantier || '/' || w.code_salarie || '/' || w.day AS key
            FROM suivimo_written w
           WHERE w.minutes IS NOT NULL AND NOT w.dirty
             AND NOT EXISTS (SELECT 1 FROM slot_keys k WHERE k.code_chantier = w.code_chantier AND k.code_salarie = w.code_salarie AND k.day = w.day)`,
    ok: 'Chaque ligne SuiviMO écrite par le connecteur a au moins un créneau.',
    found: (c) => `${count(c, 'ligne SuiviMO écrite', 'lignes SuiviMO écrites')} sans aucun créneau BatiSimply : « Recomparer » sur les heures les vérifie.`,
  },
  {
    id: 'written-mismatch',
    level: 'warning',
    sql: `SELECT w.code_chantier || '/' || w.code_salarie || '/' || w.day AS key
            FROM suivimo_written w
            JOIN (SELECT code_chantier, code_salarie, day, sum(minutes) AS minutes, max(trajet) AS trajet, max(panier) AS panier
                    FROM slot_keys GROUP BY code_chantier, code_salarie, day) a
              ON a.code_chantier = w.code_chantier AND a.code_salarie = w.code_salarie AND a.day = w.day
           WHERE NOT w.dirty AND (w.minutes IS DISTINCT FROM a.minutes OR w.trajet IS DISTINCT FROM a.trajet OR w.panier IS DISTINCT FROM a.panier)`,
    ok: 'Les lignes SuiviMO écrites correspondent à la somme de leurs créneaux.',
    found: (c) => `${count(c, 'ligne SuiviMO diffère', 'lignes SuiviMO diffèrent')} de la somme de ses créneaux : « Recomparer » sur les heures les réécrit.`,
  },
  {
    id: 'dirty-keys',
    level: 'warning',
    sql: `SELECT code_chantier || '/' || code_salarie || '/' || day AS key FROM suivimo_written WHERE dirty`,
    ok: 'Aucune écriture SuiviMO laissée en suspens.',
    found: (c) => `${count(c, 'ligne SuiviMO laissée', 'lignes SuiviMO laissées')} à terminer par une exécution interrompue : elles seront écrites au prochain passage.`,
  },
  {
    id: 'pending-intents',
    level: 'warning',
    sql: `SELECT kind || ':' || source_code AS key FROM sync_records WHERE intent IS NOT NULL`,
    ok: 'Aucun envoi vers BatiSimply laissé en suspens.',
    found: (c) => `${count(c, 'envoi laissé', 'envois laissés')} en suspens par une exécution interrompue : ils seront vérifiés au prochain passage (sans doublon).`,
  },
  {
    id: 'record-errors',
    level: 'warning',
    sql: `SELECT kind || ':' || source_code AS key FROM sync_records WHERE last_error IS NOT NULL`,
    ok: 'Aucun chantier ou devis en erreur.',
    found: (c) => `${count(c, 'chantier ou devis', 'chantiers ou devis')} en erreur lors du dernier envoi : voir le journal.`,
  },
  {
    id: 'duplicate-projects',
    level: 'error',
    sql: `SELECT batisimply_id AS key FROM sync_records WHERE batisimply_id IS NOT NULL GROUP BY batisimply_id HAVING count(*) > 1`,
    ok: 'Chaque projet BatiSimply correspond à un seul chantier ou devis.',
    found: (c) => `${count(c, 'projet BatiSimply est associé', 'projets BatiSimply sont associés')} à plusieurs chantiers ou devis : contactez l'assistance.`,
  },
  {
    id: 'orphan-items',
    level: 'error',
    sql: `SELECT i.id::text AS key FROM run_items i LEFT JOIN runs r ON r.id = i.run_id WHERE r.id IS NULL`,
    ok: 'Chaque ligne du journal appartient à une exécution.',
    found: (c) => `${count(c, 'ligne du journal', 'lignes du journal')} sans exécution : purgez le journal.`,
  },
  {
    id: 'stale-running',
    level: 'warning',
    sql: `SELECT r.id AS key FROM runs r LEFT JOIN leases l ON l.flow = r.flow AND l.expires_at > now() WHERE r.status = 'running' AND l.flow IS NULL`,
    ok: 'Aucune exécution restée « en cours » sans poste qui la mène.',
    found: (c) => `${count(c, 'exécution restée', 'exécutions restées')} « en cours » sans poste qui la mène : elle sera marquée interrompue au prochain passage.`,
  },
];

const logRowSchema = z.object({
  id: z.string(),
  at: z.coerce.date(),
  machine: z.string(),
  action: z.enum(['verify', 'recompare', 'purge', 'forget']),
  flow: z.string().nullable(),
  outcome: z.enum(['ok', 'warning', 'failed']),
  message: z.string(),
});

export class BufferMaintenance {
  private readonly db: BufferQueryable;
  constructor(private readonly store: BufferStore) {
    this.db = store.db;
  }

  /** « Vérifier la base tampon »: schema version, rows per table, and the consistency checks. */
  async verify(): Promise<BufferCheck> {
    const expectedVersion = LATEST_BUFFER_VERSION;
    const v = await this.db.query<{ v: unknown }>('SELECT COALESCE(max(version), 0) AS v FROM schema_migrations');
    const schemaVersion = n(v[0]?.v);
    const tables: BufferCheck['tables'] = [];
    for (const t of TABLES) {
      const r = await this.db.query<{ c: unknown }>(`SELECT count(*)::int AS c FROM ${t}`);
      tables.push({ table: t, rows: n(r[0]?.c) });
    }
    const checks: Check[] = [];
    checks.push(
      schemaVersion === expectedVersion
        ? { id: 'schema', level: 'ok', message: `Schéma de la base tampon à jour (version ${schemaVersion}).`, count: 0, examples: [] }
        : schemaVersion > expectedVersion
          ? { id: 'schema', level: 'warning', message: `La base tampon a été mise à jour par une version plus récente du connecteur (schéma ${schemaVersion}, celui-ci connaît le ${expectedVersion}) : mettez ce poste à jour.`, count: 0, examples: [] }
          : { id: 'schema', level: 'error', message: `Schéma de la base tampon en retard (version ${schemaVersion} sur ${expectedVersion}) : redémarrez le connecteur pour l'appliquer.`, count: 0, examples: [] },
    );
    for (const c of CHECKS) {
      const total = await this.db.query<{ c: unknown }>(`SELECT count(*)::int AS c FROM (${c.sql}) AS x`);
      const found = n(total[0]?.c);
      const examples = found > 0 ? (await this.db.query<{ key: unknown }>(`SELECT key FROM (${c.sql}) AS x ORDER BY key LIMIT 5`)).map((r) => String(r.key)) : [];
      checks.push({ id: c.id, level: found > 0 ? c.level : 'ok', message: found > 0 ? c.found(found) : c.ok, count: found, examples });
    }
    return { ok: checks.every((c) => c.level !== 'error'), schemaVersion, expectedVersion, tables, checks };
  }

  /**
   * « Recomparer » the push flow: every record already sent is compared again with its BatiSimply project on
   * the next run (its last pushed hash is forgotten; its project id is kept, so nothing is created twice).
   * Records with a pending intent are left alone (the next run settles them first). Returns how many.
   */
  async resetPushComparison(): Promise<number> {
    const rows = await this.db.query('UPDATE sync_records SET pushed_hash = NULL WHERE batisimply_id IS NOT NULL AND intent IS NULL RETURNING source_code');
    return rows.length;
  }

  /** The SuiviMO rows the buffer says it wrote (written, not already dirty): what « Recomparer » reads back from Batigest. */
  async writtenRows(): Promise<{ key: KeyRef; minutes: number; trajet: number; panier: number }[]> {
    const rows = await this.db.query<{ code_chantier: string; code_salarie: string; day: string; minutes: unknown; trajet: unknown; panier: unknown }>(
      'SELECT code_chantier, code_salarie, day, minutes, trajet, panier FROM suivimo_written WHERE minutes IS NOT NULL AND NOT dirty ORDER BY code_chantier, code_salarie, day',
    );
    return rows.map((r) => ({ key: { codeChantier: r.code_chantier, codeSalarie: r.code_salarie, day: r.day }, minutes: n(r.minutes), trajet: n(r.trajet), panier: n(r.panier) }));
  }

  /** Keys whose written row differs from the sum of its slots (or has no slot left): to be recomputed. */
  async aggregateMismatches(): Promise<KeyRef[]> {
    const rows = await this.db.query<{ code_chantier: string; code_salarie: string; day: string }>(
      `SELECT w.code_chantier, w.code_salarie, w.day
         FROM suivimo_written w
         LEFT JOIN (SELECT code_chantier, code_salarie, day, sum(minutes) AS minutes, max(trajet) AS trajet, max(panier) AS panier
                      FROM slot_keys GROUP BY code_chantier, code_salarie, day) a
           ON a.code_chantier = w.code_chantier AND a.code_salarie = w.code_salarie AND a.day = w.day
        WHERE NOT w.dirty AND w.minutes IS NOT NULL
          AND (a.day IS NULL OR w.minutes IS DISTINCT FROM a.minutes OR w.trajet IS DISTINCT FROM a.trajet OR w.panier IS DISTINCT FROM a.panier)`,
    );
    return rows.map((r) => ({ codeChantier: r.code_chantier, codeSalarie: r.code_salarie, day: r.day }));
  }

  /** Marks keys to be recomputed from their slots and written again by the next hours run. */
  async markDirty(keys: KeyRef[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const part = keys.slice(i, i + 1000);
      await this.store.transaction((tx) => tx.markDirty(part));
    }
  }

  /** Deletes the runs started before `before` (never one still running) and their items. */
  async purgeJournal(before: Date): Promise<{ runs: number; items: number }> {
    return this.store.db.transaction(async (q) => {
      const items = await q.query<{ c: unknown }>(
        `SELECT count(*)::int AS c FROM run_items i JOIN runs r ON r.id = i.run_id WHERE r.started_at < $1 AND r.status <> 'running'`,
        [before],
      );
      const runs = await q.query(`DELETE FROM runs WHERE started_at < $1 AND status <> 'running' RETURNING id`, [before]);
      return { runs: runs.length, items: n(items[0]?.c) };
    });
  }

  /**
   * « Oublier l'état » of a flow, in one transaction. push: every chantier/devis record (the next run adopts
   * the existing BatiSimply projects by their code: none is created twice). hours: slots, their keys, what
   * was written and the mapping cache (the next run rewrites each SuiviMO row at its key: no row twice).
   */
  async forget(flow: FlowName): Promise<Record<string, number>> {
    const tables = flow === 'push' ? ['sync_records'] : ['slot_keys', 'time_slots', 'suivimo_written', 'employees'];
    return this.store.db.transaction(async (q) => {
      const deleted: Record<string, number> = {};
      for (const t of tables) deleted[t] = (await q.query(`DELETE FROM ${t} RETURNING 1 AS x`)).length;
      return deleted;
    });
  }

  async log(e: { at: Date; machine: string; action: MaintenanceEntry['action']; flow: string | null; outcome: MaintenanceEntry['outcome']; message: string }): Promise<void> {
    await this.db.query('INSERT INTO maintenance_log (id, at, machine, action, flow, outcome, message) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      randomUUID(),
      e.at,
      e.machine,
      e.action,
      e.flow,
      e.outcome,
      e.message,
    ]);
  }

  async listLog(limit: number): Promise<MaintenanceEntry[]> {
    const rows = await this.db.query('SELECT id, at, machine, action, flow, outcome, message FROM maintenance_log ORDER BY at DESC, seq DESC LIMIT $1', [limit]);
    return rows.map((r) => {
      const x = logRowSchema.parse(r);
      return { ...x, at: x.at.toISOString() };
    });
  }
}
