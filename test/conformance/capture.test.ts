/**
 * Keeps the conformance corpus true: a full sync of the real engine and gateway against the simulators, with the
 * TDS simulator recording every SQL text the gateway (tedious/mssql) sends; each normalised statement must be in
 * corpus.json. When the gateway starts sending a new statement this test fails and names it; record it with
 *   CONFORMANCE_CAPTURE=1 npx vitest run test/conformance/capture.test.ts
 * (rewrites the `gateway` entries of corpus.json, keeps the hand-written `client` entries), then run
 * test/conformance/conformance.test.ts to check the three drivers agree on it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatigestGateway } from '../../src/main/services/batigest/index.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { simHarness, U1, U2, U3, type Harness } from '../support/sync/harness.js';
import type { CapturedStatement } from '../support/tds/server.js';
import { startBatigestSim, type BatigestSimEnv } from '../integration/batigest-sim.js';
import { type CorpusEntry, loadCorpus, normalise, saveCorpus } from './corpus.js';

const RECORD = process.env.CONFORMANCE_CAPTURE === '1';

let h!: Harness;
let noCodebs!: BatigestSimEnv;
beforeAll(async () => {
  h = await simHarness();
  noCodebs = await startBatigestSim({ BTG_SANS_CODEBS: { seed: 3, chantiers: 2, devis: 2, salaries: 2, suiviMo: 1, variant: 'v1', withCodebs: false } });
});
afterAll(async () => {
  await h?.close();
  await noCodebs?.close();
});

/** Everything the connector sends Batigest in a full sync, with the setup screens around it. */
async function fullSync(): Promise<CapturedStatement[]> {
  const tds = h.sims!.tds;
  tds.capture.start();
  noCodebs.sim.capture.start();
  let other: CapturedStatement[];
  try {
    // Réglages › Batigest: test, column detection, employee mapping (codebs)
    const gw = new BatigestGateway({ settings: h.settings.sqlServer, logger: memoryLogger() });
    try {
      expect((await gw.testConnection()).ok).toBe(true);
      await gw.detectColumns();
      await gw.codebsStatus();
      await gw.writeEmployeeMapping('S01', U1);
      await gw.writeEmployeeMapping('PL', null);
      // Réglages › Chantiers (issue 18): Etat values, devis hours; the opt-in write-back to ChantierDef
      await gw.chantierEtatCounts();
      await gw.readDevisHours([0, 3, 4]);
      await gw.writeChantierFields([
        { code: '00000101', field: 'ville', value: 'Lyon' },
        { code: '00000101', field: 'dateFin', value: '2026-08-01' },
      ]);
    } finally {
      await gw.close();
    }
    const plain = noCodebs.gateway('BTG_SANS_CODEBS');
    await plain.createCodebsColumn();

    // chantier push, then the hours: first import, edits (move, delete), a run with nothing to write
    const [push] = await h.engine().run('push');
    expect(push!.status).toBe('succeeded');
    const pid = (code: string): number => h.projectsByCode(code)[0]!.id;
    h.state.addSlot({ id: 1, startDate: '2026-07-01T22:30:00Z', userId: U1, projectId: pid('00000101'), managementStatus: 'VALIDATED', totalTimeMinutes: 450, hasHomeToWorkJourney: true });
    h.state.addSlot({ id: 2, startDate: '2026-07-02T12:00:00Z', userId: U1, projectId: pid('00000101'), managementStatus: 'VALIDATED', totalTimeMinutes: 90 });
    h.state.addSlot({ id: 3, startDate: '2026-01-20T23:30:00Z', userId: U2, projectId: pid('00000102'), managementStatus: 'VALIDATED', totalTimeMinutes: 480 });
    h.state.addSlot({ id: 4, startDate: '2026-07-03T07:00:00Z', userId: U3, projectId: pid('00000101'), managementStatus: 'VALIDATED', totalTimeMinutes: 300 });
    await h.engine().run('hours');
    h.state.editSlot(3, { day: '2026-01-22' });
    h.state.editSlot(2, { totalTimeMinutes: 120 });
    h.state.deleteSlot(1);
    await h.engine().run('hours');
    await h.engine().run('hours');
    // devis mode
    h.settings.mode = 'devis';
    await h.engine().run('push');
  } finally {
    other = noCodebs.sim.capture.stop();
  }
  const mine = tds.capture.stop();
  // the hours were written (read with the harness' own connection, after the capture)
  expect((await h.suiviMo()).length).toBeGreaterThan(0);
  return [...mine, ...other];
}

describe('conformance corpus', () => {
  it('holds every statement the gateway sends during a full sync (captured, normalised)', async () => {
    const seen = new Map<string, CorpusEntry>();
    for (const c of await fullSync()) {
      const n = normalise(c.sql, c.params);
      if (!seen.has(n.sql)) seen.set(n.sql, { id: '', source: 'gateway', sql: n.sql, params: n.params, note: c.kind === 'batch' ? 'SQL batch' : 'RPC sp_executesql' });
    }
    expect(seen.size).toBeGreaterThan(10);
    const corpus = loadCorpus();
    if (RECORD) {
      const manual = corpus.filter((e) => e.source === 'client');
      const old = new Map(corpus.filter((e) => e.source === 'gateway').map((e) => [e.sql, e]));
      let k = Math.max(0, ...[...old.values()].map((e) => Number(/^gateway-(\d+)$/.exec(e.id)?.[1] ?? 0)));
      const gateway = [...seen.values()].map((e) => ({ ...e, id: old.get(e.sql)?.id ?? `gateway-${String(++k).padStart(2, '0')}` }));
      saveCorpus([...gateway, ...manual]);
      return;
    }
    const known = new Set(corpus.map((e) => e.sql));
    const missing = [...seen.keys()].filter((s) => !known.has(s));
    expect(missing, 'statements the gateway sends that corpus.json lacks (record them: CONFORMANCE_CAPTURE=1 npx vitest run test/conformance/capture.test.ts)').toEqual([]);
    // and no stale gateway entry: each one is still sent
    const stale = corpus.filter((e) => e.source === 'gateway' && !seen.has(e.sql)).map((e) => e.id);
    expect(stale, 'gateway entries of corpus.json the gateway no longer sends (re-record)').toEqual([]);
  });
});
