/**
 * The connector left alone on a shared office PC, in Debian Chromium through the web bridge, on the real
 * app (no simulator needed: nothing here talks to Batigest or BatiSimply):
 *  1. the pause from the dashboard (« Suspendre 1 heure », the banner, « Reprendre »), kept in the settings;
 *  2. the PIN asked before Réglages and Correspondance (focus in its field), a wrong one refused, the right
 *     one opening the page; the dashboard stays open;
 *  3. Réglages › Maintenance reached by its link: verify the buffer, the typed confirmation of « Oublier »,
 *     the purge asked twice, the maintenance log, « Exporter un diagnostic ».
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator } from 'playwright-core';
import { LATEST_BUFFER_VERSION as latest } from '../../src/main/services/buffer/migrations.js';
import { buildRenderer, E2E_TEST_MS, POLL, SCREENSHOT_DIR, startStack, type Stack } from './harness.js';

/** A screenshot of one card (the settings page is too tall to review whole). */
const shoot = (l: Locator, name: string) => l.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });

let rendererDir: string;
let stack: Stack;
const PIN = '2468';

beforeAll(async () => {
  rendererDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-e2e-renderer-'));
  await buildRenderer(rendererDir);
  stack = await startStack(rendererDir);
  stack.app.settings.update({ setupCompleted: true, machineName: 'PC-ACCUEIL', schedule: { enabled: true, intervalSeconds: 300 } });
  await stack.page.reload();
  await stack.page.getByTestId('page-dashboard').waitFor();
}, E2E_TEST_MS);

afterAll(async () => {
  await stack?.close();
  if (rendererDir) fs.rmSync(rendererDir, { recursive: true, force: true });
});

describe('unattended on a shared PC', { timeout: E2E_TEST_MS }, () => {
  it('the dashboard pauses the schedule for an hour, says until when, and resumes it', async () => {
    const { page } = stack;
    const group = page.getByTestId('pause-group');
    await group.waitFor();
    await group.getByRole('button', { name: '1 heure' }).click();
    const banner = page.getByTestId('paused-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/Synchronisation automatique suspendue jusqu'à (demain )?\d{2}:\d{2}\./);
    // (No licence key in this stack: the state itself says « Licence », stronger than a pause.)
    const until = Date.parse(stack.app.settings.get().schedule.pausedUntil ?? '');
    expect(Math.abs(until - Date.now() - 3_600_000)).toBeLessThan(60_000);
    expect(await page.getByTestId('flow-push-line').textContent()).toMatch(/en pause jusqu'à/);
    await stack.screenshot('dashboard-paused');
    await banner.getByRole('button', { name: 'Reprendre' }).click();
    await expect.poll(() => page.getByTestId('paused-banner').count(), POLL).toBe(0);
    expect(stack.app.settings.get().schedule.pausedUntil).toBeNull();
  });

  it('with a PIN, Réglages and Correspondance ask for it (focus in the field); the dashboard stays open', async () => {
    const { page } = stack;
    const set = await stack.app.router.invoke('protection.set', { pin: PIN }, { host: 'bridge' });
    expect(set.ok).toBe(true);
    await stack.app.router.invoke('protection.lock', undefined, { host: 'bridge' });
    await page.reload();
    await page.getByTestId('page-dashboard').waitFor();
    expect(await page.getByTestId('nav-settings').textContent()).toContain('(page protégée)');
    await page.getByTestId('nav-settings').click();
    const prompt = page.getByTestId('pin-prompt');
    await prompt.waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id), POLL).toBe('pin-unlock');
    expect(await page.getByTestId('page-settings').count()).toBe(0);
    await page.getByLabel('Code (4 à 12 chiffres)').fill('1111');
    await prompt.getByRole('button', { name: 'Déverrouiller' }).click();
    await prompt.getByRole('alert').filter({ hasText: 'Code de protection incorrect.' }).waitFor();
    await stack.screenshot('settings-pin-prompt');
    // The page is not only hidden: the main process refuses its channels.
    const refused = await page.evaluate(async () => {
      const r = await fetch('/api/invoke/settings.update', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ machineName: 'PIRATE' }) });
      return (await r.json()) as { ok: boolean; error?: { code: string } };
    });
    expect(refused).toMatchObject({ ok: false, error: { code: 'PROTECTION_LOCKED' } });
    await page.getByLabel('Code (4 à 12 chiffres)').fill(PIN);
    await page.getByLabel('Code (4 à 12 chiffres)').press('Enter');
    await page.getByTestId('page-settings').waitFor();
    await page.getByTestId('nav-mapping').click();
    expect(await page.getByTestId('pin-prompt').count()).toBe(0);
    await page.getByTestId('lock-now').click();
    await page.getByTestId('pin-prompt').waitFor();
    await page.getByTestId('nav-dashboard').click();
    await page.getByTestId('page-dashboard').waitFor();
  });

  it('Réglages › Maintenance by its link: verify, forget only once OUBLIER is typed, purge asked twice, the log, a diagnostic', async () => {
    const { page } = stack;
    await page.evaluate(() => (window.location.hash = '#/settings?section=maintenance'));
    await page.getByLabel('Code (4 à 12 chiffres)').fill(PIN);
    await page.getByRole('button', { name: 'Déverrouiller' }).click();
    const card = page.getByTestId('settings-maintenance');
    await card.waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id), POLL).toBe('section-maintenance');

    await card.getByTestId('maint-verify').click();
    const check = card.getByTestId('buffer-check');
    await check.waitFor();
    expect(await check.textContent()).toContain(`Schéma version ${latest} (attendue ${latest})`);
    expect(await check.locator('li[data-check=orphan-slot-keys]').textContent()).toContain('Aucune clé SuiviMO sans son créneau.');

    const forget = card.getByRole('button', { name: 'Oublier l’état' });
    expect(await forget.isDisabled()).toBe(true);
    await card.getByLabel('Pour confirmer, tapez OUBLIER').fill('oublier');
    expect(await forget.isDisabled()).toBe(false);
    await forget.click();
    await card.getByRole('status').filter({ hasText: /^État de l'import des heures oublié \(0 créneau, 0 ligne SuiviMO suivie\)/ }).waitFor();

    await card.getByLabel('Plus anciennes que (jours)').fill('0');
    await card.getByRole('button', { name: 'Purger' }).click();
    await card.getByText('Indiquez un nombre de jours entre 1 et 3650.').waitFor();
    await card.getByLabel('Plus anciennes que (jours)').fill('90');
    await card.getByRole('button', { name: 'Purger' }).click();
    await card.getByRole('button', { name: 'Confirmer la suppression des synchronisations de plus de 90 jours' }).click();
    await card.getByRole('status').filter({ hasText: 'Journal purgé des exécutions de plus de 90 jours : 0 exécution supprimée, 0 ligne de détail.' }).waitFor();

    const log = card.getByTestId('maintenance-log');
    await expect.poll(() => log.locator('tbody tr').count(), POLL).toBe(3);
    expect(await log.locator('tbody tr').first().textContent()).toContain('Purge du journal');
    await shoot(card, 'settings-maintenance');

    const support = page.getByTestId('settings-support');
    await support.getByTestId('export-diagnostic').click();
    await support.getByRole('status').filter({ hasText: /Diagnostic enregistré\s: diagnostic-PC-ACCUEIL-\d{8}-\d{6}\.zip \(\d+ Ko\)\./ }).waitFor();
    expect(fs.readdirSync(path.join(stack.dataDir, 'diagnostics')).filter((f) => f.endsWith('.zip'))).toHaveLength(1);
    // Through the web bridge nothing opens a folder: the path is shown instead.
    await support.getByTestId('open-logs').click();
    await support.getByText(`Emplacement : ${path.join(stack.dataDir, 'logs')}`).waitFor();
    await shoot(support, 'settings-support');
    await shoot(page.getByTestId('settings-protection'), 'settings-protection');
    await shoot(page.getByTestId('settings-updates'), 'settings-updates');
    expect(stack.pageErrors).toEqual([]);
  });
});
