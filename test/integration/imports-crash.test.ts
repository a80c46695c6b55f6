/**
 * Kill test of the import agent: the CLI `sync --flow imports` runs as a child process (the real app, settings file,
 * remote buffer on the local PostgreSQL, the real exports client) against the exports API simulator and a Batigest
 * importer running in this process, and is killed with SIGKILL at the flow’s checkpoints spread over the whole cycle
 * of an export (listing, recorded, downloaded, staged, part reserved, intent, copied, renamed into the import folder,
 * handed, consumed, mark-synced, archived, synced; and for an export Batigest never takes: withdraw intent,
 * withdrawn, mark-error, errored), at the first and at later exports, and after seeded delays. After each kill the
 * CLI is run again to its end, and the end state is checked: every export imported by Batigest exactly once (0 double
 * copies), no export marked synced that Batigest did not consume, none lost (each one synced, or in error with its
 * French reason for the one never taken), the import folder empty, each file in Archive or Errors.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliChild, runCliChild, type ChildResult } from '../support/proof/child.js';
import { SeededRandom } from '../support/datasets/batigest.js';
import { startBatigestImporter, type BatigestImporter } from '../support/exports/importer.js';
import { startExportsSim, type ExportsSim } from '../support/exports/server.js';
import { testSettings } from '../support/sync/harness.js';

let BUNDLE = '';
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' };
const EXPORTS = 6;
/** Batigest never takes this one: its timeout makes the error path part of every cycle. */
const NEVER = 'EXP-0004';
const SEED = 20261201;

type KillPoint = ({ kind: 'checkpoint'; name: string; n: number } | { kind: 'delay'; ms: number }) & { embedded?: boolean };
const label = (p: KillPoint): string => (p.embedded ? '[tampon intégré] ' : '') + (p.kind === 'checkpoint' ? `${p.name}:${p.n}` : `après ${p.ms} ms`);

const HAPPY = [
  'imports:after-seen',
  'imports:after-download',
  'imports:after-stage',
  'imports:after-reserve',
  'imports:after-intent',
  'imports:after-copy',
  'imports:after-handover',
  'imports:after-handed',
  'imports:after-consumed',
  'imports:after-mark-synced',
  'imports:after-archive',
  'imports:after-synced',
];
const ERROR_PATH = ['imports:after-withdraw-intent', 'imports:after-withdraw', 'imports:after-mark-error', 'imports:after-errored'];

function killPlan(runMs: number): KillPoint[] {
  const rng = new SeededRandom(SEED);
  const cp = (name: string, n: number): KillPoint => ({ kind: 'checkpoint', name, n });
  return [
    cp('run:started', 1),
    cp('imports:listed', 1),
    ...HAPPY.map((name) => cp(name, 1)),
    // Later exports (the 5th of the cycle is after the one Batigest never takes).
    ...['imports:after-download', 'imports:after-copy', 'imports:after-handover', 'imports:after-consumed', 'imports:after-mark-synced'].map((name) => cp(name, rng.int(3, EXPORTS - 1))),
    ...ERROR_PATH.map((name) => cp(name, 1)),
    ...[20, 55].map((pc): KillPoint => ({ kind: 'delay', ms: Math.round((runMs * pc) / 100) })),
    // The same on the embedded buffer (PGlite on disk, the default install).
    { kind: 'checkpoint', name: 'imports:after-handover', n: 2, embedded: true },
    { kind: 'checkpoint', name: 'imports:after-consumed', n: 1, embedded: true },
  ];
}

const runChild = (args: string[], env: Record<string, string>, watch?: (child: ChildProcess) => () => void): Promise<ChildResult> =>
  runCliChild(BUNDLE, args, env, watch);

let sim: ExportsSim;
let importer: BatigestImporter;
let work: string;
let database: string;

async function admin<T>(fn: (c: pg.Client) => Promise<T>, db = 'postgres'): Promise<T> {
  const c = new pg.Client({ ...PG, database: db });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  BUNDLE = await buildCliChild('cli-child-imports');
  sim = await startExportsSim();
  work = mkdtempSync(join(tmpdir(), 'cbs-imports-crash-'));
  database = `cbs_imports_crash_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${database}`));
});

afterAll(async () => {
  importer?.stop();
  await sim?.close();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).catch(() => undefined);
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A fresh world for one kill point: the API’s queue, the importer, the folders, the buffer’s tables. */
async function reset(i: number, embedded = false): Promise<{ env: Record<string, string>; importDir: string; workDir: string }> {
  importer?.stop();
  sim.reset();
  sim.seed(EXPORTS);
  const dir = join(work, `point-${i}`);
  const importDir = join(dir, 'batigest-import');
  const workDir = join(dir, 'travail');
  mkdirSync(importDir, { recursive: true });
  importer = startBatigestImporter(importDir, { mode: (name) => !name.startsWith(NEVER), delayMs: 40, pollMs: 10 });
  await admin((c) => c.query(`DO $$ BEGIN IF to_regclass('import_exports') IS NOT NULL THEN TRUNCATE import_exports, run_items, runs, leases; END IF; END $$`), database);
  const settings = testSettings((s) => {
    s.buffer = embedded ? { kind: 'embedded', embeddedPath: join(dir, 'tampon'), remote: s.buffer.remote } : { kind: 'remote', embeddedPath: '', remote: { ...PG, database, ssl: false } };
    s.imports = { ...s.imports, enabled: true, apiUrl: sim.url, apiKey: sim.apiKey, agentId: 'agent-crash', workDir, batigestImportPath: importDir, importTimeoutSeconds: 2, timeoutMs: 5000, maxRetries: 3 };
  });
  const settingsFile = join(dir, 'settings.json');
  writeFileSync(settingsFile, JSON.stringify(settings));
  return { env: { CONNECTEUR_DATA_DIR: join(dir, 'donnees'), CONNECTEUR_SETTINGS_FILE: settingsFile, CONNECTEUR_TEST_IMPORTS_POLL_MS: '20' }, importDir, workDir };
}

interface Check {
  doubles: number;
  syncedNotConsumed: number;
  lost: number;
  problems: string[];
}

function check(importDir: string, workDir: string): Check {
  const problems: string[] = [];
  let doubles = 0;
  let syncedNotConsumed = 0;
  let lost = 0;
  for (const e of sim.exports.values()) {
    const name = `${e.id}_${e.fileName}`;
    const copies = importer.appearances.get(name) ?? 0;
    const consumed = importer.consumed.get(name) ?? 0;
    if (copies > 1 || consumed > 1) {
      doubles += Math.max(copies, consumed) - 1;
      problems.push(`${e.id} copié ${copies} fois, importé ${consumed} fois`);
    }
    const synced = e.marks.some((m) => m.kind === 'synced');
    if (synced && consumed === 0) {
      syncedNotConsumed++;
      problems.push(`${e.id} marqué synchronisé sans avoir été importé`);
    }
    const want = e.id === NEVER ? 'error' : 'synced';
    if (e.status !== want || (want === 'synced' && consumed !== 1)) {
      lost++;
      problems.push(`${e.id} : statut ${e.status}, importé ${consumed} fois (attendu ${want})`);
    }
    if (e.id === NEVER && !/n’a pas importé le fichier/.test(e.error ?? '')) problems.push(`${e.id} : raison ${e.error}`);
  }
  const left = readdirSync(importDir);
  if (left.length) problems.push(`dossier d’import non vide : ${left.join(', ')}`);
  const archived = readdirSync(join(workDir, 'Archive')).length;
  const errors = readdirSync(join(workDir, 'Errors'));
  if (archived !== EXPORTS - 1 || errors.length !== 1 || !errors[0]!.startsWith(NEVER)) problems.push(`Archive ${archived}, Errors ${errors.join(', ')}`);
  return { doubles, syncedNotConsumed, lost, problems };
}

describe('import agent kill test (SIGKILL of the CLI at every step of the cycle)', () => {
  it('never copies a file twice, never marks synced what Batigest did not take, never loses an export', async () => {
    const control = await reset(0);
    const t0 = Date.now();
    const first = await runChild(['sync', '--flow', 'imports'], control.env);
    const runMs = Date.now() - t0;
    expect(first.code, first.err + first.out).toBe(0);
    expect(check(control.importDir, control.workDir).problems).toEqual([]);

    const plan = killPlan(runMs);
    let killed = 0;
    let doubles = 0;
    let syncedNotConsumed = 0;
    let lost = 0;
    const problems: string[] = [];
    for (const [i, point] of plan.entries()) {
      const w = await reset(i + 1, point.embedded === true);
      const args = ['sync', '--flow', 'imports'];
      const killedRun =
        point.kind === 'checkpoint'
          ? await runChild(args, { ...w.env, CONNECTEUR_TEST_CRASH_AT: `${point.name}:${point.n}` })
          : await runChild(args, w.env, (child) => {
              const t = setTimeout(() => child.kill('SIGKILL'), point.ms);
              return () => clearTimeout(t);
            });
      if (killedRun.signal === 'SIGKILL') killed++;
      else if (point.kind === 'checkpoint') problems.push(`${label(point)} : pas tué (code ${killedRun.code}) ${killedRun.err.slice(0, 300)}`);
      const rerun = await runChild(args, w.env);
      if (rerun.code !== 0) problems.push(`${label(point)} : la reprise a échoué (code ${rerun.code}) ${rerun.out.slice(-300)} ${rerun.err.slice(0, 300)}`);
      const c = check(w.importDir, w.workDir);
      doubles += c.doubles;
      syncedNotConsumed += c.syncedNotConsumed;
      lost += c.lost;
      problems.push(...c.problems.map((p) => `${label(point)} : ${p}`));
      console.log(`point ${i + 1}/${plan.length} ${label(point)} : ${killedRun.signal ?? killedRun.code} puis ${rerun.code}, ${c.doubles} double(s), ${c.syncedNotConsumed} synchronisé(s) sans import, ${c.lost} perdu(s)`);
    }
    console.log(`${killed} kill points, ${doubles} double copies, ${syncedNotConsumed} marked synced without import, ${lost} lost (${plan.length} planned, ${EXPORTS} exports each time, one never taken by Batigest)`);
    expect(problems).toEqual([]);
    expect(killed).toBeGreaterThanOrEqual(15);
    expect({ doubles, syncedNotConsumed, lost }).toEqual({ doubles: 0, syncedNotConsumed: 0, lost: 0 });
  }, 900_000);
});
