/**
 * The README's main command, run as a user runs it: `npm run demo` in a child process (default sizes), its exit
 * code and its key lines. Only its data folder is a temporary one (DEMO_DATA_DIR), so the test never touches a
 * .demo-data of the working copy.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'cbs-demo-command-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function npmRun(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('npm run demo (the README main command)', () => {
  it('exits 0; the second run writes nothing and says so; the waiting hours are explained, not failed', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DEMO_DATA_DIR: dataDir, FORCE_COLOR: '0' };
    delete env.DEMO_CHANTIERS;
    delete env.DEMO_SALARIES;
    delete env.DEMO_SLOTS;
    const { code, out, err } = await npmRun('demo', env);
    const lines = out.split('\n');
    const context = `--- stdout ---\n${out}\n--- stderr ---\n${err}`;
    expect(code, context).toBe(0);
    expect(err, context).toBe('');

    // First run: the chantiers in scope sent (251 of 300: open ones and those finished within 24 months), the
    // projects made by hand adopted (14 of the 15; the other one is out of scope), hours imported.
    expect(out).toMatch(/Chantiers → BatiSimply : 237 projets créés, 14 mis à jour, 0 inchangé, 0 ignoré, 0 en erreur, 251 écritures BatiSimply — exécution réussie/);
    expect(out).toMatch(/dont 14 projets déjà présents dans BatiSimply repris par leur code/);
    // Second run: nothing written, per flow and in total.
    const second = lines.slice(lines.findIndex((l) => l.startsWith('2e passage')));
    expect(second.join('\n')).toMatch(/Chantiers → BatiSimply : 0 projet créé, 0 mis à jour, 251 inchangés, 0 ignoré, 0 en erreur, 0 écriture BatiSimply — exécution réussie/);
    expect(second.join('\n')).toMatch(/Heures → Batigest +: 0 créneau importé, 0 modifié, [\d\s\u202f]+ inchangés, [\d\s\u202f]+ ignorés, 0 en erreur, 0 écriture SuiviMO — exécution partielle/);
    expect(second).toContain("✓ Le 2e passage n'a rien écrit : 0 POST, 0 PUT vers BatiSimply, 0 écriture SuiviMO, aucun code de projet en double dans BatiSimply.");
    // The hours of the 5 unmapped users: expected, with how to import them.
    expect(out).toMatch(/^ℹ Attendu dans cette démo : 5 utilisateurs BatiSimply sans salarié Sage Batigest associé \(.+\) — \d+ créneaux validés attendent, rien n'est perdu/m);
    expect(out).toMatch(/page « Correspondance salariés »/);
    expect(out).not.toMatch(/✗/);
    expect(out).toMatch(/^Projets dans BatiSimply : 252\.$/m);
  }, 300_000);
});
