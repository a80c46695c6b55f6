/** The headless CLI, in process, against the simulators: commands, output, exit codes. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runCli, type CliIo } from '../../src/main/cli.js';
import { simHarness, type Harness } from '../support/sync/harness.js';

describe('connecteur CLI (simulators)', () => {
  let h!: Harness;
  let dir!: string;
  let settingsFile!: string;
  const allow = { licence: { assertSyncAllowed: async () => undefined } };

  beforeAll(async () => {
    h = await simHarness();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-cli-'));
    settingsFile = path.join(dir, 'reglages.json');
    fs.writeFileSync(settingsFile, JSON.stringify({ ...h.settings, machineName: 'PC-CLI' }));
  });
  afterAll(async () => {
    await h?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (args: string[], o: { tty?: boolean; licence?: boolean; interruptAfterMs?: number } = {}) => {
    let out = '';
    let err = '';
    let interrupt: (() => void) | null = null;
    const io: CliIo = {
      out: (s) => void (out += s),
      err: (s) => void (err += s),
      isTTY: o.tty ?? false,
      env: { CONNECTEUR_DATA_DIR: path.join(dir, 'data') },
      onInterrupt: (fn) => {
        interrupt = fn;
        return () => (interrupt = null);
      },
    };
    if (o.interruptAfterMs !== undefined) setTimeout(() => interrupt?.(), o.interruptAfterMs);
    const code = await runCli(['--settings', settingsFile, ...args], io, { clock: h.clock, runtime: o.licence === false ? {} : allow });
    return { code, out, err };
  };

  it('refuses to sync without a licence (exit 3) and explains it in French', async () => {
    const r = await cli(['sync', '--flow', 'push'], { licence: false });
    expect(r.code).toBe(EXIT.LICENCE);
    expect(r.err).toMatch(/licence/i);
    expect(h.state.projects.size).toBe(0);
  });

  it('syncs with plain progress lines, then journal, status and mapping show the result', async () => {
    const r = await cli(['sync', '--flow', 'push']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('Envoi vers BatiSimply');
    expect(r.out).toContain('3 créés');
    expect(r.out).toMatch(/00000104 sans nom/);
    expect(r.out).not.toContain('\r');
    expect(h.state.projects.size).toBe(3);

    const j = await cli(['journal', '--limit', '5']);
    expect(j.code).toBe(EXIT.OK);
    expect(j.out).toMatch(/push\s+réussie\s+PC-CLI/);

    const s = await cli(['status']);
    expect(s.code).toBe(EXIT.OK);
    expect(s.out).toContain('Chantiers suivis : 3');

    const m = await cli(['mapping']);
    expect(m.code).toBe(EXIT.OK);
    expect(m.out).toMatch(/✗ Paul Leroy.*aucun salarié/);
    expect(m.out).toContain('2 utilisateurs associés, 1 sans salarié.');
  });

  it.skipIf(process.platform === 'win32')('keeps the data folder private: folders 0700 (data, logs, buffer), the files written there 0600', () => {
    const data = path.join(dir, 'data');
    const mode = (p: string) => fs.statSync(p).mode & 0o777;
    expect(mode(data)).toBe(0o700);
    expect(mode(path.join(data, 'logs'))).toBe(0o700);
    expect(mode(path.join(data, 'buffer'))).toBe(0o700);
    const logs = fs.readdirSync(path.join(data, 'logs'));
    expect(logs.length).toBeGreaterThan(0);
    // Every file the connector wrote at the top of the folder and in logs/ (settings, key, machine id, licence cache, logs).
    const files = [...fs.readdirSync(data).map((f) => path.join(data, f)), ...logs.map((f) => path.join(data, 'logs', f))].filter((f) => fs.statSync(f).isFile());
    for (const f of files) expect([f, mode(f)]).toEqual([f, 0o600]);
  });

  it('draws a progress bar on a terminal, and a second run changes nothing', async () => {
    await h.updateChantier('00000101', { description: 'Cuisine et cellier' });
    const r = await cli(['sync'], { tty: true });
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('\r');
    expect(r.out).toMatch(/\[█+\] 100%/);
    expect(r.out).toContain('0 créé, 1 mis à jour, 2 inchangés');
    const again = await cli(['sync']);
    expect(again.out).toContain('0 créé, 0 mis à jour, 3 inchangés');
    expect(again.out).toContain('0 écriture SuiviMO');
  });

  it('tests the three connections', async () => {
    const r = await cli(['test-connections']);
    expect(r.out).toMatch(/✓ SQL Server \(Batigest\)/);
    expect(r.out).toMatch(/✓ BatiSimply/);
    expect(r.out).toMatch(/✓ Base tampon/);
    expect(r.code).toBe(EXIT.OK);
  });

  it('exits 130 when interrupted, leaving a cancelled run in the journal', async () => {
    h.sims!.bs.faults.add({ route: 'GET /api/timeSlotManagement/allUsers', latencyMs: 1500, times: 1 });
    const r = await cli(['sync', '--flow', 'hours'], { interruptAfterMs: 300 });
    expect(r.code).toBe(EXIT.CANCELLED);
    expect(r.err).toMatch(/Annulation/);
    const j = await cli(['journal', '--limit', '1']);
    expect(j.out).toMatch(/hours\s+annulée/);
  });

  it('rejects bad usage and invalid settings with exit 2', async () => {
    expect((await cli(['sync', '--flow', 'tout'])).code).toBe(EXIT.USAGE);
    expect((await cli(['journal', '--limit', '0'])).code).toBe(EXIT.USAGE);
    expect((await cli(['inconnue'])).code).toBe(EXIT.USAGE);
    const bad = path.join(dir, 'mauvais.json');
    fs.writeFileSync(bad, JSON.stringify({ mode: 'tout' }));
    const r = await runCli(['--settings', bad, 'status'], { out: () => undefined, err: () => undefined, isTTY: false, env: { CONNECTEUR_DATA_DIR: path.join(dir, 'data') } });
    expect(r).toBe(EXIT.USAGE);
  });

  it('an invalid CONNECTEUR_* variable or imposed value: exit 2 with the variable (or field) named, nothing run', async () => {
    const silent = { out: () => undefined, isTTY: false };
    for (const [name, value] of [
      ['CONNECTEUR_BUFFER_REMOTE_PORT', 'abc'],
      ['CONNECTEUR_SCHEDULE_INTERVAL_SECONDS', '0'],
      ['CONNECTEUR_SCHEDULE_INTERVAL_SECONDS', '-300'],
      ['CONNECTEUR_HOURS_WINDOW_DAYS', '100000'],
    ] as const) {
      let err = '';
      const code = await runCli(['--settings', settingsFile, 'status'], { ...silent, err: (x) => void (err += x), env: { CONNECTEUR_DATA_DIR: path.join(dir, 'data'), [name]: value } });
      expect([name, value, code]).toEqual([name, value, EXIT.USAGE]);
      expect(err).toContain(name);
      expect(err).toContain(`« ${value} »`);
    }
    // A legacy credentials.json imposed with a port that is not a number: the port is named.
    const legacy = path.join(dir, 'credentials.json');
    fs.writeFileSync(legacy, JSON.stringify({ postgres: { host: '127.0.0.1', port: 'abc', user: 'u', database: 'd' } }));
    let err = '';
    const code = await runCli(['--settings', legacy, 'status'], { ...silent, err: (x) => void (err += x), env: { CONNECTEUR_DATA_DIR: path.join(dir, 'data') } });
    expect(code).toBe(EXIT.USAGE);
    expect(err).toContain('postgres.port');
    expect(err).not.toMatch(/Erreur de la base tampon/);
  });

  it('keys of the settings file the connector does not know are named on stderr (the command still runs)', async () => {
    const typo = path.join(dir, 'typo.json');
    fs.writeFileSync(typo, JSON.stringify({ ...h.settings, machineName: 'PC-CLI', horaires: { fenetre: 3 } }));
    let err = '';
    let out = '';
    const code = await runCli(['--settings', typo, 'status'], { out: (x) => void (out += x), err: (x) => void (err += x), isTTY: false, env: { CONNECTEUR_DATA_DIR: path.join(dir, 'data') } });
    expect(code).toBe(EXIT.OK);
    expect(out).toContain('Poste : PC-CLI');
    expect(err).toContain('horaires');
  });
});
