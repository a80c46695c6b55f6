/**
 * The import agent (flow 'imports') against its simulators: a full cycle (listing, download, staging, hand-over,
 * consumption by the Batigest importer, mark-synced, Archive), the daily log without the API key, the per-machine
 * agent id, exactly one copy per export across cycles, and the file names Windows refuses.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importsHarness, type ImportsHarness } from '../support/exports/harness.js';

let h: ImportsHarness;
beforeEach(async () => {
  h = await importsHarness();
});
afterEach(async () => {
  await h.close();
});

describe('import agent: one cycle against the simulators', () => {
  it('imports every pending export once, marks it synced and archives it', async () => {
    const seeded = h.sim.seed(12);
    const run = await h.run();
    expect(run.status, run.message).toBe('succeeded');
    expect(run.counts.created).toBe(12);
    expect(run.message).toBe('12 exports importés, 0 en erreur.');
    for (const e of seeded) {
      expect(e.status).toBe('synced');
      expect(e.marks).toEqual([{ kind: 'synced', agentId: 'agent-test' }]);
    }
    expect(h.importer.consumed.size).toBe(12);
    expect(h.importer.doubles()).toEqual([]);
    // What Batigest imported is byte for byte what the API sent.
    const first = seeded[0]!;
    expect(h.importer.contents.get(`${first.id}_${first.fileName}`)).toBe(first.content.toString('utf8'));
    expect(readdirSync(join(h.workDir, 'Archive')).sort()).toEqual(seeded.map((e) => `${e.id}_${e.fileName}`).sort());
    for (const f of ['Downloads', 'ToImport', 'Errors']) expect(readdirSync(join(h.workDir, f))).toEqual([]);
    expect(readdirSync(h.importDir)).toEqual([]);
    const rows = await h.store.listAll();
    expect(rows.map((r) => r.state)).toEqual(Array(12).fill('synced'));

    // A second cycle: nothing new, nothing copied again.
    const again = await h.run();
    expect(again.status).toBe('succeeded');
    expect(again.message).toBe('Aucun export en attente.');
    expect([...h.importer.consumed.values()].every((n) => n === 1)).toBe(true);
  });

  it('writes a daily log in Logs without the API key, and only inside the work and import folders', async () => {
    h.sim.seed(2);
    // A log of long ago is removed (rotation, 30 days); one of yesterday is kept.
    mkdirSync(join(h.workDir, 'Logs'), { recursive: true });
    writeFileSync(join(h.workDir, 'Logs', 'sync-2020-01-01.log'), 'ancien\n');
    await h.run();
    const logs = readdirSync(join(h.workDir, 'Logs'));
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^sync-\d{4}-\d{2}-\d{2}\.log$/);
    const text = readFileSync(join(h.workDir, 'Logs', logs[0]!), 'utf8');
    expect(text).toContain('Début du cycle (poste agent-test)');
    expect(text).toContain('importé et confirmé');
    expect(text).not.toContain(h.sim.apiKey);
    for (const f of h.files()) expect(f.startsWith('travail') || f.startsWith('batigest-import'), f).toBe(true);
  });

  it('uses the agent id generated for the machine when none is set, and the data folder when no work folder is set', async () => {
    h.settings.imports.agentId = '';
    h.settings.imports.workDir = '';
    h.sim.seed(1);
    const run = await h.run();
    expect(run.status).toBe('succeeded');
    expect([...h.sim.exports.values()][0]!.marks[0]!.agentId).toBe('agent-defaut');
    expect(existsSync(join(h.root, 'donnees', 'imports', 'Archive'))).toBe(true);
  });

  it("leaves another PC’s export in progress alone (its files are in that PC’s folders)", async () => {
    const [mine, theirs] = h.sim.seed(2);
    await h.store.upsertSeen({ exportId: theirs!.id, docType: 'devis', fileName: theirs!.fileName, importName: `${theirs!.id}_${theirs!.fileName}`, size: null, checksum: null }, 'autre-poste', 'run-x', new Date());
    await h.store.setState(theirs!.id, 'handed', { now: new Date(), runId: 'run-x', handedAt: new Date() });
    const run = await h.run();
    expect(run.counts.created).toBe(1);
    expect(mine!.status).toBe('synced');
    expect(theirs!.status).toBe('pending');
    expect(theirs!.marks).toEqual([]);
    expect((await h.store.get(theirs!.id))?.state).toBe('handed');
  });

  it('gives Windows-safe names to hostile file names, never writing outside its folders', async () => {
    const names = ['CON', 'lpt1.xml', '..\\..\\evil.xml', '../../../etc/passwd.csv', 'a:b*c?.xml', 'nul.csv', 'devis. ', ''];
    names.forEach((n, i) => h.sim.add({ id: `BAD-${i}`, fileName: n, content: `<x>${i}</x>` }));
    h.sim.add({ id: '../../x', fileName: 'ok.xml', content: '<x/>' });
    // The importer takes .xml/.csv only: give the others a short timeout.
    h.settings.imports.importTimeoutSeconds = 1;
    const run = await h.run();
    const rows = await h.store.listAll();
    const byId = new Map(rows.map((r) => [r.export_id, r.import_name]));
    expect(byId.get('BAD-0')).toBe('BAD-0__CON');
    expect(byId.get('BAD-1')).toBe('BAD-1__lpt1.xml');
    expect(byId.get('BAD-2')).toBe('BAD-2_evil.xml');
    expect(byId.get('BAD-3')).toBe('BAD-3_passwd.csv');
    expect(byId.get('BAD-4')).toBe('BAD-4_a_b_c_.xml');
    expect(byId.get('BAD-5')).toBe('BAD-5__nul.csv');
    expect(byId.get('BAD-7')).toBe('BAD-7_export-BAD-7.xml');
    for (const n of byId.values()) expect(n).not.toMatch(/[<>:"/\\|?*]|^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i);
    // The id that is a path is refused and journaled; the others went through.
    expect(byId.has('../../x')).toBe(false);
    expect(run.counts.skipped).toBe(1);
    expect(h.sim.exports.get('BAD-3')!.status).toBe('synced');
    for (const f of h.files()) expect(f.startsWith('travail') || f.startsWith('batigest-import'), f).toBe(true);
  });
});
