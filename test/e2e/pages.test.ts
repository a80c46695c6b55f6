/**
 * The renderer in Debian Chromium, through the web bridge, against the real app (settings service,
 * IPC router, bridge). Checks the first start, secrets never shown again once saved, keyboard
 * navigation through every page, and screenshots each page at 1280×800 and 1920×1080.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, E2E_TEST_MS, POLL, startStack, type Stack } from './harness.js';

let rendererDir: string;
let stack: Stack;

beforeAll(async () => {
  rendererDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-e2e-renderer-'));
  await buildRenderer(rendererDir);
  stack = await startStack(rendererDir);
}, E2E_TEST_MS);

afterAll(async () => {
  await stack?.close();
  fs.rmSync(rendererDir, { recursive: true, force: true });
});

describe('renderer through the web bridge', { timeout: E2E_TEST_MS }, () => {
  it('first start opens the wizard on the licence step and validates the key format', async () => {
    const { page } = stack;
    await page.getByTestId('wizard').waitFor();
    const steps = page.locator('ol.stepper li');
    expect(await steps.count()).toBe(7);
    expect(await steps.nth(0).getAttribute('aria-current')).toBe('step');
    await stack.screenshot('wizard-1-licence');
    // The built page carries its own strict CSP (Electron loads it from file://, without server headers).
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');

    // Going on without a valid licence is refused, with an explanation.
    await page.getByTestId('wizard-next').click();
    await expect.poll(() => page.getByRole('alert').first().textContent(), POLL).toMatch(/clé de licence|licence/i);
    expect(await steps.nth(0).getAttribute('aria-current')).toBe('step');

    // A key in the wrong format is refused before any call; the input formats what is typed.
    const key = page.getByLabel('Clé de licence');
    await key.fill('ab12 cd');
    expect(await key.inputValue()).toBe('AB12-CD');
    await page.getByRole('button', { name: 'Valider la clé' }).click();
    expect(await page.locator('#licence-key-error').textContent()).toBe('La clé doit avoir la forme XXXX-XXXX-XXXX-XXXX.');
    expect(await key.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await key.getAttribute('aria-describedby')) ?? '';
    expect(describedBy.split(' ').length).toBe(2); // help + error
    expect(stack.pageErrors.filter((e) => !/status of (401|404)/.test(e))).toEqual([]);
  });

  it('a saved secret is never sent back to the page: "•••• enregistré" with "Remplacer"', async () => {
    const { page, app } = stack;
    app.settings.update({ setupCompleted: true });
    await page.goto(`${stack.bridge.origin}/#/settings`);
    await page.reload();
    const sql = page.getByTestId('settings-sql');
    await sql.waitFor();
    await sql.getByLabel('Serveur SQL Server').fill('srv-batigest\\SAGE');
    await sql.getByLabel('Base de données Sage Batigest').fill('BTG_SOCIETE');
    await sql.getByLabel('Utilisateur').fill('connecteur');
    const secret = 'Tr3s-S3cret!e2e';
    await sql.getByLabel('Mot de passe').fill(secret);
    await sql.getByRole('button', { name: 'Enregistrer cette section' }).click();
    await page.getByText('Réglages enregistrés.').first().waitFor();

    // Stored (encrypted) by the real settings service…
    expect(app.settings.get().sqlServer.password).toBe(secret);
    expect(app.settings.view().sqlServer.password).toEqual({ set: true });
    // …and after a reload the page shows it as saved, never its value.
    await page.reload();
    await page.getByTestId('settings-sql').waitFor();
    await expect.poll(() => page.getByTestId('settings-sql').textContent(), POLL).toContain('•••• enregistré');
    const html = await page.content();
    expect(html).not.toContain(secret);
    expect(await page.getByTestId('settings-sql').getByLabel('Serveur SQL Server').inputValue()).toBe('srv-batigest\\SAGE');
    await stack.screenshot('settings');

    // "Remplacer" opens an empty password input; leaving it empty keeps the stored secret.
    await page.getByTestId('settings-sql').getByRole('button', { name: 'Remplacer' }).click();
    const pw = page.getByTestId('settings-sql').getByLabel('Mot de passe');
    expect(await pw.inputValue()).toBe('');
    await page.getByTestId('settings-sql').getByRole('button', { name: 'Enregistrer cette section' }).click();
    await expect.poll(() => page.getByText('Réglages enregistrés.').count(), POLL).toBeGreaterThan(0);
    expect(app.settings.get().sqlServer.password).toBe(secret);
  });

  it('another server with the saved password kept is refused on screen, naming the field; typed again it is saved', async () => {
    const { page, app } = stack;
    const before = app.settings.get().sqlServer;
    expect(before.password.length).toBeGreaterThan(0);
    await page.goto(`${stack.bridge.origin}/#/settings`);
    await page.reload();
    const sql = page.getByTestId('settings-sql');
    await sql.waitFor();
    await sql.getByLabel('Serveur SQL Server').fill('serveur-pirate.example');
    await sql.getByRole('button', { name: 'Enregistrer cette section' }).click();
    await expect.poll(() => sql.getByRole('alert').first().textContent(), POLL).toMatch(/Mot de passe : saisissez-le de nouveau/);
    expect(app.settings.get().sqlServer).toEqual(before);

    await sql.getByRole('button', { name: 'Remplacer' }).click();
    await sql.getByLabel('Mot de passe').fill('N0uveau-pour-ce-serveur');
    await sql.getByRole('button', { name: 'Enregistrer cette section' }).click();
    await expect.poll(() => app.settings.get().sqlServer.server, POLL).toBe('serveur-pirate.example');
    expect(app.settings.get().sqlServer.password).toBe('N0uveau-pour-ce-serveur');
  });

  it('every page is reachable with the keyboard and shows a loading, empty or error state', async () => {
    const { page } = stack;
    await page.goto(`${stack.bridge.origin}/#/dashboard`);
    await page.getByTestId('page-dashboard').waitFor();
    const expected: [string, string, string][] = [
      ['nav-mapping', 'page-mapping', 'Correspondance des salariés'],
      ['nav-journal', 'page-journal', 'Journal'],
      ['nav-settings', 'page-settings', 'Réglages'],
      ['nav-licence', 'page-licence', 'Licence'],
      ['nav-dashboard', 'page-dashboard', 'Tableau de bord'],
    ];
    for (const [nav, testId, title] of expected) {
      await page.getByTestId(nav).focus();
      await page.keyboard.press('Enter');
      const p = page.getByTestId(testId);
      await p.waitFor();
      expect(await p.locator('h1').first().textContent()).toBe(title);
      expect(await page.getByTestId(nav).getAttribute('aria-current')).toBe('page');
      // Focus moved to the content for keyboard users.
      await expect.poll(() => page.evaluate(() => document.activeElement?.id ?? ''), POLL).toBe('main');
      // The page shows a state of its own (loading, empty, error with a retry, or data), never nothing.
      await expect.poll(() => page.locator('#main').locator('[role=status], [role=alert], table, form, input, .facts').count(), { ...POLL, message: testId }).toBeGreaterThan(0);
      await stack.screenshot(`page-${testId.replace('page-', '')}`);
    }

    // The focus ring is visible on a focused button.
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el ? getComputedStyle(el).outlineStyle : 'none';
    });
    expect(outline).not.toBe('none');

    // Every page again on a large screen.
    await page.setViewportSize({ width: 1920, height: 1080 });
    for (const [nav, testId] of expected) {
      await page.getByTestId(nav).click();
      await page.getByTestId(testId).waitFor();
      await expect.poll(() => page.locator('#main').locator('[role=status], [role=alert], table, form, input, .facts').count(), { ...POLL, message: testId }).toBeGreaterThan(0);
      await stack.screenshot(`page-${testId.replace('page-', '')}-1920`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('labels follow the software chosen: Codial instead of Sage Batigest', async () => {
    const { page, app } = stack;
    app.settings.update({ software: 'codial' });
    await page.goto(`${stack.bridge.origin}/#/dashboard`);
    await page.reload();
    await page.getByTestId('page-dashboard').waitFor();
    expect(await page.locator('.sidebar .brand').textContent()).toContain('Codial ↔ BatiSimply');
    expect(await page.getByTestId('sync-push').textContent()).toBe('Codial → BatiSimply');
    expect(await page.getByTestId('sync-hours').textContent()).toBe('BatiSimply → Codial');
    expect(await page.getByTestId('card-sql').locator('h3').textContent()).toBe('Codial (SQL Server)');
    await page.getByTestId('nav-mapping').click();
    await page.getByTestId('page-mapping').waitFor();
    expect(await page.getByTestId('page-mapping').locator('p').first().textContent()).toContain('salarié de Codial');
    expect(await page.content()).not.toContain('Sage Batigest');
    await stack.screenshot('page-dashboard-codial');
    app.settings.update({ software: 'batigest' });
  });

  it('Réglages › Postes lists this PC; the configuration is exported without secrets and imported in Réglages and in the wizard', async () => {
    const { page, app } = stack;
    app.settings.update({ setupCompleted: true, sqlServer: { password: 'Secret-E2E-Postes' } });
    await page.goto(`${stack.bridge.origin}/#/settings`);
    await page.reload();
    const machines = page.getByTestId('settings-machines');
    await machines.waitFor();
    await expect.poll(() => machines.textContent(), POLL).toContain(`${app.context.machineName()} (ce poste)`);
    expect(await machines.textContent()).toContain('Base tampon intégrée');
    const share = page.getByTestId('settings-config-share');
    const [download] = await Promise.all([page.waitForEvent('download'), share.getByRole('button', { name: 'Exporter la configuration' }).click()]);
    const text = fs.readFileSync((await download.path())!, 'utf8');
    expect(text).not.toContain('Secret-E2E-Postes');
    const file = JSON.parse(text) as { settings: { sqlServer: { server: string } } };
    file.settings.sqlServer.server = 'srv-importe\\SAGE';
    const edited = path.join(stack.dir, 'config-autre-poste.json');
    fs.writeFileSync(edited, JSON.stringify(file));
    await share.locator('#config-import-file').setInputFiles(edited);
    await expect.poll(() => share.getByRole('status').first().textContent(), POLL).toMatch(/Configuration du poste .+ importée/);
    expect(app.settings.get().sqlServer.server).toBe('srv-importe\\SAGE');
    // The SQL Server section shows the imported value (the sections start again from it).
    expect(await page.getByTestId('settings-sql').getByLabel('Serveur SQL Server').inputValue()).toBe('srv-importe\\SAGE');
    await stack.screenshot('settings-postes');

    // A new PC: the wizard's first step offers the import.
    app.settings.update({ setupCompleted: false });
    await page.reload();
    await page.getByTestId('wizard').waitFor();
    await page.getByRole('heading', { name: 'Importer la configuration d’un autre poste' }).waitFor();
    file.settings.sqlServer.server = 'srv-assistant\\SAGE';
    fs.writeFileSync(edited, JSON.stringify(file));
    await page.locator('#config-import-file').setInputFiles(edited);
    await expect.poll(() => app.settings.get().sqlServer.server, POLL).toBe('srv-assistant\\SAGE');
    await stack.screenshot('wizard-import');
    app.settings.update({ setupCompleted: true });
    expect(stack.pageErrors.filter((e) => !/status of (401|404)/.test(e))).toEqual([]);
  });
});
