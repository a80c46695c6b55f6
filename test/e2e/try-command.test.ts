/**
 * `npm run try`, as a newcomer uses it: the command runs in a child process (its own process group, like a
 * terminal), prints the address and the wizard's values; Chromium opens the address, goes through the wizard
 * with what was printed, and runs the first sync; Ctrl+C (SIGINT to the group) then stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH, E2E_TEST_MS, ROOT, SCREENSHOT_DIR, WAIT_MS } from './harness.js';
import { generateBatigestCompany } from '../support/datasets/batigest.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-try-'));
let child: ChildProcess | null = null;
let context: BrowserContext | null = null;

afterAll(async () => {
  await context?.close().catch(() => undefined);
  // A run that failed half-way: nothing of it may survive the test.
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts `npm run try` and resolves with its output once it printed the whole guide. */
/** `exited`: when npm and the command it ran have ended and closed their output (code, or the signal that ended npm). */
function startTry(): Promise<{ out: () => string; exited: Promise<number | string | null> }> {
  child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'try', '--', '--data-dir', path.join(dir, 'data')], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | string | null>((r) => child!.on('close', (code, signal) => r(code ?? signal)));
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (out.includes('Ctrl+C arrête tout')) {
        clearInterval(t);
        resolve({ out: () => out, exited });
      }
    }, 100);
    void exited.then((code) => {
      clearInterval(t);
      reject(new Error(`npm run try ended (${code}) before printing its guide:\n${out}\n${err}`));
    });
  });
}

const portOf = (url: string): number => Number(new URL(url).port);
const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

describe('npm run try', { timeout: E2E_TEST_MS }, () => {
  it('prints the address and the values; the wizard goes through with them to the first sync; Ctrl+C stops everything', async () => {
    const run = await startTry();
    const out = run.out();
    const url = /^Ouvrez : (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out)?.[1];
    const key = /Clé de licence : ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})/.exec(out)?.[1];
    const services = /SQL Server simulé : 127\.0\.0\.1,(\d+) · BatiSimply simulé : (http:\S+) · licences : (http:\S+)/.exec(out);
    expect(url, out).toBeDefined();
    expect(key, out).toBeDefined();
    expect(services, out).not.toBeNull();
    expect(out).toMatch(/2\. SQL Server — déjà rempli \(Serveur 127\.0\.0\.1,\d+ ; Base de données BTG_ESSAI ; Utilisateur connecteur ; Mot de passe \S+/);

    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      locale: 'fr-FR',
      env: { ...process.env, LANGUAGE: 'fr', LANG: 'fr_FR.UTF-8' },
      timezoneId: 'Europe/Paris',
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(WAIT_MS);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url!);
    await page.getByTestId('wizard').waitFor();
    const next = page.getByTestId('wizard-next');

    // 1. Licence: the printed key, checked by the demonstration licence service.
    await page.getByLabel('Clé de licence').fill(key!);
    await page.getByRole('button', { name: 'Valider la clé' }).click();
    await page.getByTestId('wizard-step-0').getByText('Valide', { exact: true }).waitFor();
    await shot(page, 'try-1-licence');
    await next.click();
    // 2. SQL Server: pre-filled with the printed values; « Suivant » tests and saves.
    const step1 = page.getByTestId('wizard-step-1');
    await step1.waitFor();
    expect(await step1.getByLabel('Serveur SQL Server').inputValue()).toBe(`127.0.0.1,${services![1]}`);
    await next.click();
    // 3. Embedded buffer.
    await page.getByTestId('wizard-step-2').waitFor();
    await next.click();
    // 4. BatiSimply: pre-filled.
    const step3 = page.getByTestId('wizard-step-3');
    await step3.waitFor();
    expect(await step3.getByLabel('Adresse de l’API').inputValue()).toBe(services![2]);
    await next.click();
    // 5. Options, 6. Salariés (the two unmapped ones are listed), 7. Résumé.
    await page.getByTestId('wizard-step-4').waitFor();
    await next.click();
    const step5 = page.getByTestId('wizard-step-5');
    await step5.getByTestId('mapping-table').waitFor();
    await shot(page, 'try-6-salaries');
    await next.click();
    await page.getByTestId('wizard-step-6').waitFor();
    await next.click();

    // First sync from the dashboard.
    await page.getByTestId('page-dashboard').waitFor();
    await page.getByTestId('card-sql').getByText('Connecté').waitFor();
    await page.getByTestId('sync-all').click();
    const rows = page.locator('[data-testid=runs-table] tbody tr');
    await expect
      .poll(async () => {
        const cells = await rows.evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim())));
        return cells.length >= 2 && cells.every((c) => c[2] !== 'En cours') && (await page.getByText('Aucune synchronisation en cours.').isVisible());
      }, { timeout: 90_000, interval: 250 })
      .toBe(true);
    const cells = await rows.evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim())));
    // Chantiers sent (those of the 40 in scope: open, or ended within 24 months — written here independently of
    // the connector), hours of the mapped salariés imported, the others waiting.
    const cutoff = new Date();
    cutoff.setUTCMonth(cutoff.getUTCMonth() - 24);
    const from = cutoff.toISOString().slice(0, 10);
    const company = generateBatigestCompany({ seed: 'essai', chantiers: 40, devis: 12, salaries: 12, suiviMo: 0, variant: 'v1', withCodebs: true });
    const inScope = company.chantiers.filter((c) => c.etat === 'E' || c.etat === 'A' || (c.etat !== 'P' && (c.dateFin ?? c.dateModif.slice(0, 10)) >= from)).length;
    expect(inScope).toBeGreaterThan(5);
    const [hours, push] = cells;
    expect(push![2]).toBe('Réussie');
    expect(Number(push![3]) + Number(push![4])).toBe(inScope);
    expect(hours![2]).toBe('Partielle');
    expect(Number(hours![3])).toBeGreaterThan(0);
    await shot(page, 'try-dashboard-after-first-sync');
    expect(errors).toEqual([]);

    // Ctrl+C (to the whole group, as a terminal does): the command closes everything it started, says so, and
    // exits 0 (npm itself ends on the same SIGINT, as it does in a terminal); every server is closed.
    await context.close();
    context = null;
    process.kill(-child!.pid!, 'SIGINT');
    expect([0, 'SIGINT']).toContain(await run.exited);
    expect(run.out()).toMatch(/Arrêt \(Ctrl\+C\)…\nArrêté\.\n$/);
    for (const port of [portOf(url!), Number(services![1]), portOf(services![2]!), portOf(services![3]!)]) expect(await refused(port)).toBe(true);
  });
});
