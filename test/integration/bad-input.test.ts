/**
 * Bad input: wrong settings, awkward names and codes, broken API answers, NULLs in Batigest rows.
 * Each case ends with a clear French error or a journaled skip with its reason, and nothing corrupt is
 * written to Batigest (SuiviMO), BatiSimply (projects) or the buffer.
 * Real engine, gateway and client against the simulators (TDS on PGlite, BatiSimply); in-memory buffer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../src/main/cli.js';
import type { BufferStore } from '../../src/main/services/buffer/index.js';
import type { RunSummary } from '../../src/main/services/sync/engine.js';
import { startWorld, type World } from '../support/proof/world.js';
import { expectFrench } from '../support/foundation/french.js';

let world: World;
let tmp: string;

beforeAll(async () => {
  world = await startWorld({ seed: 77, chantiers: 8, salaries: 4, validatedSlots: 20, existingProjects: 4, buffer: 'pglite-memory' });
  tmp = mkdtempSync(join(tmpdir(), 'cbs-bad-'));
});
afterAll(async () => {
  await world?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs flows on a fresh engine over `buffer`, and returns the summaries and the journal items of these runs. */
async function run(buffer: BufferStore, flow: 'push' | 'hours' | 'all'): Promise<{ runs: RunSummary[]; items: { action: string; key: string; reason: string | null }[] }> {
  const e = await world.engine({ buffer });
  try {
    const runs = await e.engine.run(flow);
    const items: { action: string; key: string; reason: string | null }[] = [];
    for (const r of runs) for (const i of await buffer.listRunItems(r.runId)) items.push({ action: i.action, key: i.record_key, reason: i.reason });
    return { runs, items };
  } finally {
    await e.close();
  }
}

/** Nothing corrupt in SuiviMO: positive hours, flags 0/1, plausible dates. */
async function expectSuiviSane(): Promise<void> {
  for (const r of await world.suiviRows()) {
    expect(r.nbH0, `${r.codeChantier}/${r.codeSalarie}/${r.date}`).toBeGreaterThan(0);
    expect(r.nbH0).toBeLessThanOrEqual(24);
    expect([0, 1]).toContain(r.nbH3);
    expect([0, 1]).toContain(r.nbH4);
    expect(Number(r.date.slice(0, 4))).toBeGreaterThan(2000);
    expect(Number(r.date.slice(0, 4))).toBeLessThan(2100);
  }
}

describe('bad settings (CLI)', () => {
  const cli = async (content: string, args: string[] = ['sync', '--flow', 'push']): Promise<{ code: number; text: string }> => {
    const file = join(tmp, `settings-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, content);
    let text = '';
    const io: CliIo = { out: (s) => (text += s), err: (s) => (text += s), isTTY: false, env: { CONNECTEUR_DATA_DIR: join(tmp, 'data'), CONNECTEUR_SETTINGS_FILE: file } };
    const code = await runCli(args, io, { runtime: { licence: { assertSyncAllowed: async () => undefined } } });
    return { code, text };
  };

  it('refuses a file that is not JSON, wrong types and unknown values, in French, with exit code 2', async () => {
    const notJson = await cli('{ "sqlServer": ');
    expect(notJson.code).toBe(2);
    expect(notJson.text).toMatch(/illisible|JSON/);
    expectFrench(notJson.text);
    const types = await cli(JSON.stringify({ sqlServer: { connectTimeoutMs: 'vite', encrypt: 'oui' }, batisimply: { concurrency: -3 } }));
    expect(types.code).toBe(2);
    expect(types.text).toMatch(/invalides/);
    expect(types.text).toContain('sqlServer.connectTimeoutMs');
    expect(types.text).toContain('batisimply.concurrency');
    const mode = await cli(JSON.stringify({ mode: 'tout', hours: { windowDays: 0 } }));
    expect(mode.code).toBe(2);
    expect(mode.text).toContain('mode');
  });

  it('missing fields: the run stops with a French "not configured" message, nothing is sent', async () => {
    const before = world.bs.log.count();
    const r = await cli(JSON.stringify({ buffer: { kind: 'embedded', embeddedPath: join(tmp, 'buf-missing') } }));
    expect(r.code).not.toBe(0);
    expect(r.text).toMatch(/n'est pas renseigné|pas configuré|renseignez|indiquez/i);
    expectFrench(r.text);
    expect(world.bs.log.count()).toBe(before);
  }, 60_000);
});

describe('awkward names and codes', () => {
  beforeEach(async () => {
    await world.reset();
  });

  it("quotes, ], ;, unicode, emoji and 500 characters go through unchanged, without SQL injection, and are stable on rerun", async () => {
    const long = 'Réhabilitation complète « bâtiment B » ; '.repeat(20).slice(0, 500);
    await world.adminExec(`ALTER TABLE "ChantierDef" ALTER COLUMN "Description" TYPE varchar(600)`);
    const rows: [string, string, string][] = [
      [`Q'1]2;3`, `O'Brien & Fils; DROP TABLE "SuiviMO"--`, `Cuisine [îlot]; "salle" d'eau`],
      ['ÉTÉ2026', "Société Générale d'Œuvres", 'Façade 🏗️ chantier 😀 Zoë'],
      ['LONG0001', 'Client long', long],
      [`]';--`, 'Crochet', `a]b'c;d`],
    ];
    for (const [code, client, desc] of rows) {
      await world.adminExec(
        `INSERT INTO "ChantierDef" ("Code", "NomClient", "Description", "DateDebut", "Etat", "TotalMO", "MontantHT") VALUES (${lit(code)}, ${lit(client)}, ${lit(desc)}, '2026-03-01', 'E', 12.5, 1000)`,
      );
    }
    await world.adminExec(`INSERT INTO "Salarie" ("Code", "Nom", "Prenom", "codebs") VALUES ('S''1]', 'D''Artagnan; --', 'Zoë 😀', 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa')`);
    world.bs.state.addUser({ id: 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa', login: 'zoe', firstName: 'Zoë 😀', lastName: "D'Artagnan" });
    const buffer = await world.openBuffer();
    try {
      const push = await run(buffer, 'push');
      expect(push.runs[0]!.status).toBe('succeeded');
      for (const [code, , desc] of rows) {
        const found = [...world.bs.state.projects.values()].filter((p) => p.projectCode === code);
        expect(found, code).toHaveLength(1);
        expect(found[0]!.projectName).toBe(desc);
      }
      // A validated slot by that salarié on the awkward chantier: one SuiviMO row with the exact codes.
      const target = [...world.bs.state.projects.values()].find((p) => p.projectCode === `Q'1]2;3`)!;
      const start = new Date(Date.now() - 3 * 86_400_000);
      start.setUTCHours(8, 0, 0, 0);
      world.bs.state.addSlot({ startDate: start.toISOString(), userId: 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa', projectId: target.id, managementStatus: 'VALIDATED', totalTimeMinutes: 150, hasPackedLunch: true });
      const hours = await run(buffer, 'hours');
      expect(hours.runs[0]!.status).toBe('succeeded');
      const suivi = (await world.suiviRows()).filter((r) => r.codeSalarie === `S'1]`);
      expect(suivi).toEqual([{ codeChantier: `Q'1]2;3`, codeSalarie: `S'1]`, date: expect.any(String), nbH0: 2.5, nbH3: 0, nbH4: 1 }]);
      // Tables intact, buffer keys exact, and a rerun changes nothing (hashes stable with unicode).
      const records = await buffer.loadRecords('chantier');
      for (const [code] of rows) expect(records.get(code)?.batisimply_id, code).toBeTruthy();
      world.bs.log.clear();
      const again = await run(buffer, 'all');
      expect(again.runs.map((r) => r.counts.writes)).toEqual([0, 0]);
      expect(world.bs.log.entries.filter((e) => e.method === 'POST' || e.method === 'PUT').filter((e) => e.route !== 'POST /token')).toEqual([]);
      await expectSuiviSane();
    } finally {
      await buffer.db.close();
      await world.adminExec(`DELETE FROM "ChantierDef" WHERE "Code" IN (${rows.map(([c]) => lit(c)).join(', ')}); DELETE FROM "Salarie" WHERE "Code" = 'S''1]'`);
    }
  });
});

const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;

describe('broken BatiSimply answers', () => {
  beforeEach(async () => {
    await world.reset();
  });

  it('time slots with missing fields, wrong types, negative minutes, year 9999: each bad one skipped with a French reason, the good one written, nothing corrupt', async () => {
    const sal = world.company.salaries.find((s) => s.codebs)!;
    const project = { id: 1, projectCode: world.company.chantiers[0]!.code };
    const day = new Date(Date.now() - 4 * 86_400_000);
    day.setUTCHours(7, 0, 0, 0);
    const base = { startDate: day.toISOString(), endDate: new Date(day.getTime() + 3_600_000).toISOString(), user: { id: sal.codebs }, project, managementStatus: 'VALIDATED', totalTimeMinutes: 120, hasPackedLunch: false, hasHomeToWorkJourney: true };
    const crafted = [
      { ...base, id: 900001 },
      { ...base, id: 900002, user: undefined },
      { ...base, id: 900003, totalTimeMinutes: 'beaucoup' },
      { ...base, id: 900004, totalTimeMinutes: -90, project: { id: 2, projectCode: world.company.chantiers[1]!.code } },
      { ...base, id: 900005, startDate: '9999-12-31T08:00:00Z', endDate: '9999-12-31T10:00:00Z', project: { id: 3, projectCode: world.company.chantiers[2]!.code } },
      { ...base, id: 900006, startDate: 'hier matin', project: { id: 4, projectCode: world.company.chantiers[3]!.code } },
      { ...base, id: null, project: { id: 5, projectCode: world.company.chantiers[4]!.code } },
    ];
    world.bs.faults.add({ route: 'GET /api/timeSlotManagement/allUsers', body: crafted, times: Infinity });
    const buffer = await world.openBuffer();
    try {
      const r = await run(buffer, 'hours');
      const s = r.runs[0]!;
      console.log(`créneaux invalides : ${s.status} — ${s.message}\n${r.items.map((i) => `  ${i.action} ${i.key} ${i.reason ?? ''}`).join('\n')}`);
      expect(s.status).not.toBe('failed');
      expectFrench(s.message);
      for (const i of r.items) if (i.action !== 'created' && i.action !== 'updated') expectFrench(i.reason);
      await expectSuiviSane();
      // The good slot is written, alone on its row (the unreadable ones on the same chantier add nothing).
      const rows = await world.suiviRows();
      expect(rows.filter((x) => x.codeChantier === project.projectCode)).toEqual([
        { codeChantier: project.projectCode, codeSalarie: sal.code, date: expect.any(String), nbH0: 2, nbH3: 1, nbH4: 0 },
      ]);
      // Nothing for the negative slot (chantier 1), the year-9999 one (chantier 2), the undated one (chantier 3), the id-less one (chantier 4).
      const codes = new Set(rows.map((x) => x.codeChantier));
      for (const c of [1, 2, 3, 4]) expect(codes.has(world.company.chantiers[c]!.code), `chantier ${c}`).toBe(false);
      // Each unreadable slot journaled as skipped, with its id and what is wrong.
      const item = (id: number) => r.items.find((i) => i.key === `slot:${id}`);
      expect(item(900002)?.action).toBe('skipped');
      expect(item(900002)?.reason).toMatch(/900002.*« user » manquant/);
      expect(item(900003)?.action).toBe('skipped');
      expect(item(900003)?.reason).toMatch(/900003.*« totalTimeMinutes » de type incorrect \(un nombre attendu, reçu un texte\)/);
      for (const id of [900004, 900005, 900006]) expect(item(id)?.action, `créneau ${id}`).toBe('skipped');
      const idless = r.items.filter((i) => i.action === 'skipped' && /sans identifiant lisible/.test(i.reason ?? ''));
      expect(idless).toHaveLength(1);
      expect(idless[0]!.reason).toMatch(/« id »/);
      expect(s.counts.skipped).toBeGreaterThanOrEqual(6);
      // Nothing unreadable stored in the buffer.
      const stored = await buffer.loadSlots();
      expect(stored.has('900002')).toBe(false);
      expect(stored.has('900003')).toBe(false);
      expect(stored.get('900001')?.state).toBe('written');

      // Next run: the written slot comes back unreadable. It is journaled, not taken for a deleted one: its SuiviMO row and its state stay.
      world.bs.faults.clear();
      world.bs.faults.add({ route: 'GET /api/timeSlotManagement/allUsers', body: [{ ...base, id: 900001, totalTimeMinutes: 'deux heures', user: { firstName: 'Sans id' } }], times: Infinity });
      const again = await run(buffer, 'hours');
      console.log(`créneau devenu illisible : ${again.runs[0]!.status} — ${again.runs[0]!.message}\n${again.items.map((i) => `  ${i.action} ${i.key} ${i.reason ?? ''}`).join('\n')}`);
      expect(again.runs[0]!.status).not.toBe('failed');
      expect(again.runs[0]!.counts.writes).toBe(0);
      expect(again.items.filter((i) => i.action === 'removed' || i.action === 'reported')).toEqual([]);
      const unreadable = again.items.find((i) => i.key === 'slot:900001');
      expect(unreadable?.action).toBe('skipped');
      expect(unreadable?.reason).toMatch(/900001.*« user\.id » manquant/);
      expect(unreadable?.reason).toMatch(/« totalTimeMinutes » de type incorrect/);
      expectFrench(unreadable?.reason);
      expect((await world.suiviRows()).filter((x) => x.codeChantier === project.projectCode)).toEqual([
        { codeChantier: project.projectCode, codeSalarie: sal.code, date: expect.any(String), nbH0: 2, nbH3: 1, nbH4: 0 },
      ]);
      expect((await buffer.loadSlots()).get('900001')?.state).toBe('written');
      expect((await buffer.loadSlotKeys()).has('900001')).toBe(true);

      // Once it is readable again and gone from BatiSimply, it is a real deletion (the protection is per run).
      world.bs.faults.clear();
      world.bs.faults.add({ route: 'GET /api/timeSlotManagement/allUsers', body: [], times: Infinity });
      const gone = await run(buffer, 'hours');
      expect(gone.items.some((i) => i.key === 'slot:900001' && (i.action === 'removed' || i.action === 'reported'))).toBe(true);
    } finally {
      await buffer.db.close();
    }
  });

  it('time slots of the right shape with absurd values (negative minutes, 50 hours, year 9999) are skipped with a reason', async () => {
    const sal = world.company.salaries.find((s) => s.codebs)!;
    const day = new Date(Date.now() - 4 * 86_400_000);
    day.setUTCHours(7, 0, 0, 0);
    const slot = (id: number, c: number, o: Record<string, unknown>) => ({
      id,
      startDate: day.toISOString(),
      endDate: new Date(day.getTime() + 3_600_000).toISOString(),
      user: { id: sal.codebs },
      project: { id: c + 1, projectCode: world.company.chantiers[c]!.code },
      managementStatus: 'VALIDATED',
      totalTimeMinutes: 120,
      hasPackedLunch: false,
      hasHomeToWorkJourney: true,
      ...o,
    });
    const crafted = [
      slot(910001, 0, {}),
      slot(910002, 1, { totalTimeMinutes: -90 }),
      slot(910003, 2, { totalTimeMinutes: 3000 }),
      slot(910004, 3, { startDate: '9999-12-31T08:00:00Z', endDate: '9999-12-31T10:00:00Z' }),
    ];
    world.bs.faults.add({ route: 'GET /api/timeSlotManagement/allUsers', body: crafted, times: Infinity });
    const buffer = await world.openBuffer();
    try {
      const r = await run(buffer, 'hours');
      console.log(`valeurs absurdes : ${r.runs[0]!.status} — ${r.runs[0]!.message}\n${r.items.map((i) => `  ${i.action} ${i.key} ${i.reason ?? ''}`).join('\n')}`);
      expectFrench(r.runs[0]!.message);
      await expectSuiviSane();
      const codes = new Set((await world.suiviRows()).map((x) => x.codeChantier));
      expect(codes.has(world.company.chantiers[0]!.code)).toBe(true);
      for (const c of [1, 2, 3]) expect(codes.has(world.company.chantiers[c]!.code), `chantier ${c}`).toBe(false);
      for (const id of [910002, 910003, 910004]) {
        const item = r.items.find((i) => i.key.includes(String(id)));
        expect(item, `créneau ${id} journalisé`).toBeTruthy();
        expectFrench(item!.reason);
      }
    } finally {
      await buffer.db.close();
    }
  });

  it('project list and create answers with missing fields and wrong types: French error or journaled failure, never a duplicate', async () => {
    // The real list, plus items with missing fields and wrong types.
    const garbage = [{ id: 9001 }, { id: 'x', projectCode: 42, projectName: null }, { projectCode: 'SANSID' }, { id: 9002, projectCode: null, hoursSold: 'beaucoup' }];
    world.bs.faults.add({ route: 'GET /api/project', body: [...world.bs.state.sortedProjects(), ...garbage], times: 2 });
    world.bs.faults.add({ route: 'POST /api/project', body: { projectName: 'sans id' }, times: 1 });
    const buffer = await world.openBuffer();
    try {
      const first = await run(buffer, 'push');
      expectFrench(first.runs[0]!.message);
      for (const i of first.items) if (i.action === 'failed' || i.action === 'skipped') expectFrench(i.reason);
      world.bs.faults.clear();
      const second = await run(buffer, 'push');
      expect(second.runs[0]!.status).toBe('succeeded');
      const byCode = new Map<string, number>();
      for (const p of world.bs.state.projects.values()) byCode.set(p.projectCode, (byCode.get(p.projectCode) ?? 0) + 1);
      expect([...byCode.values()].every((n) => n === 1)).toBe(true);
      for (const code of world.expectedCodes) expect(byCode.get(code), code).toBe(1);
      expect(world.bs.log.of('POST /api/project').filter((e) => e.status === 400 || e.status === 409)).toEqual([]);
    } finally {
      await buffer.db.close();
    }
  });

  it('a token answer without access_token: a French error, the run is journaled as failed', async () => {
    world.bs.faults.add({ route: 'POST /token', body: { token_type: 'bearer', expires_in: 300 }, times: Infinity });
    const buffer = await world.openBuffer();
    try {
      const r = await run(buffer, 'push');
      expect(r.runs[0]!.status).toBe('failed');
      expectFrench(r.runs[0]!.message);
      expect([...world.bs.state.projects.values()].length).toBe(world.preexisting.size);
    } finally {
      await buffer.db.close();
    }
  });
});

describe('NULLs in Batigest rows', () => {
  beforeEach(async () => {
    await world.reset();
  });

  it('a chantier without name, one without code, one with NULL dates and amounts: skipped with a reason or sent with empty fields', async () => {
    await world.adminExec(`INSERT INTO "ChantierDef" ("Code", "NomClient", "Description") VALUES ('NUL00001', NULL, NULL), ('', 'Sans code', 'Sans code'), ('   ', 'Blanc', 'Blanc')`);
    await world.adminExec(`INSERT INTO "ChantierDef" ("Code", "NomClient", "Description", "DateDebut", "TotalMO", "MontantHT", "Etat") VALUES ('NUL00002', 'Client', NULL, NULL, NULL, NULL, NULL)`);
    await world.adminExec(`INSERT INTO "Salarie" ("Code", "Nom", "Prenom", "codebs") VALUES ('SNUL', NULL, NULL, NULL), ('S2NUL', NULL, NULL, 'bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb')`);
    const buffer = await world.openBuffer();
    try {
      const r = await run(buffer, 'all');
      expect(r.runs.map((x) => x.status)).toEqual(['succeeded', 'succeeded']);
      const skipped = r.items.filter((i) => i.action === 'skipped');
      expect(skipped.some((i) => /NUL00001/.test(i.key) && /sans nom/i.test(i.reason ?? ''))).toBe(true);
      // Rows without code are reported too (not silently dropped).
      expect(skipped.filter((i) => /sans code/i.test(i.reason ?? '')).length).toBeGreaterThanOrEqual(1);
      for (const i of skipped) expectFrench(i.reason);
      expect([...world.bs.state.projects.values()].some((p) => p.projectCode === 'NUL00001')).toBe(false);
      const p2 = [...world.bs.state.projects.values()].filter((p) => p.projectCode === 'NUL00002');
      expect(p2).toHaveLength(1);
      expect(p2[0]!.projectName).toBe('Client');
      expect(p2[0]!.hoursSold ?? null).toBeNull();
      expect([...(await buffer.loadRecords('chantier')).keys()].every((k) => k.trim() !== '')).toBe(true);
      await expectSuiviSane();
    } finally {
      await buffer.db.close();
      await world.adminExec(`DELETE FROM "ChantierDef" WHERE "Code" IN ('NUL00001', 'NUL00002', '', '   '); DELETE FROM "Salarie" WHERE "Code" IN ('SNUL', 'S2NUL')`);
    }
  });
});
