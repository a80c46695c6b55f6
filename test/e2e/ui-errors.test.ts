/**
 * Every UI action that gets an error from the main process shows it. The app of `npm run try` (real services,
 * simulators) is served through a router that fails a chosen channel on demand, with a French message of its
 * own; each channel of the contract is made to fail during each UI action that calls it, and the page must show
 * that exact message. A channel added to the contract fails this test until its UI actions are listed here (or
 * it is listed as called by no UI action, which the test checks in the renderer's sources).
 *
 * Also the licence key that the licence service refuses: « Valider la clé » used to empty the field and show
 * nothing; the reason now stays under the field, with the key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contract } from '../../src/shared/contract.js';
import type { IpcRouter } from '../../src/main/ipc/router.js';
import { startTryStack, TRY_VALUES, type TryStack } from '../../src/main/try.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, E2E_TEST_MS, POLL, ROOT, SCREENSHOT_DIR, WAIT_MS } from './harness.js';

/** Channels no UI action calls (checked below against src/renderer). */
const NOT_CALLED_BY_THE_UI = ['mapping.codebsStatus', 'buffer.status'];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-ui-errors-'));
const armed = new Map<string, string>();
const hits = new Map<string, number>();
/** channel → the UI actions whose failure was seen on the page. */
const covered = new Map<string, string[]>();
let stack: TryStack;
let context: BrowserContext;
let page: Page;

function failingRouter(router: IpcRouter): IpcRouter {
  return {
    channels: router.channels,
    async invoke(channel, input, ctx) {
      const message = armed.get(channel);
      if (message === undefined) return router.invoke(channel, input, ctx);
      hits.set(channel, (hits.get(channel) ?? 0) + 1);
      return { ok: false, error: { code: 'INTERNAL', message } };
    },
  };
}

beforeAll(async () => {
  stack = await startTryStack({
    dataDir: path.join(dir, 'data'),
    wrapRouter: failingRouter,
    // A damaged settings file: the app starts with a notice to close (settings.dismissNotice).
    prepare: (d) => fs.writeFileSync(path.join(d, 'settings.json'), '{ pas du json'),
  });
  context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    locale: 'fr-FR',
    env: { ...process.env, LANGUAGE: 'fr', LANG: 'fr_FR.UTF-8' },
    timezoneId: 'Europe/Paris',
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(stack.loginUrl);
}, E2E_TEST_MS);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await stack?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Makes `channel` fail while `action` runs, and waits until its message is on the page (in `within`, when given).
 * The fault must have fired.
 */
async function failDuring(channel: string, where: string, action: () => Promise<unknown>, within?: Locator): Promise<void> {
  expect(Object.keys(contract)).toContain(channel);
  const message = `Échec simulé de « ${channel} » (${where}) : le connecteur n’a pas pu le faire.`;
  const before = hits.get(channel) ?? 0;
  armed.set(channel, message);
  try {
    await action();
    await (within ?? page).getByText(message, { exact: true }).first().waitFor({ state: 'visible' });
  } catch (e) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `ui-errors-FAILED-${channel}.png`), fullPage: true }).catch(() => undefined);
    throw e;
  } finally {
    armed.delete(channel);
  }
  expect(hits.get(channel) ?? 0, `${channel} was not called by: ${where}`).toBeGreaterThan(before);
  covered.set(channel, [...(covered.get(channel) ?? []), where]);
}

const next = () => page.getByTestId('wizard-next').click();
const step = (n: number) => page.getByTestId(`wizard-step-${n}`);
const retry = (within: Locator) => within.getByRole('button', { name: 'Réessayer' }).first().click();
async function nav(to: 'dashboard' | 'mapping' | 'journal' | 'settings' | 'licence'): Promise<void> {
  await page.getByTestId(`nav-${to}`).click();
  await page.getByTestId(`page-${to}`).waitFor();
}
async function waitIdle(): Promise<void> {
  await expect.poll(() => page.getByText('Aucune synchronisation en cours.').isVisible(), { timeout: 90_000, interval: 250 }).toBe(true);
}

describe('errors from the main process are shown by every UI action', { timeout: E2E_TEST_MS }, () => {
  it('at start: app info, settings, licence status, notices and closing a notice', async () => {
    for (const channel of ['app.info', 'settings.get']) {
      await failDuring(channel, 'ouverture de l’application', () => page.reload());
      await retry(page.locator('.fullscreen'));
      await page.getByTestId('wizard').waitFor();
    }
    await failDuring('licence.status', 'ouverture, étape Licence de l’assistant', () => page.reload(), step(0));
    await failDuring('settings.notices', 'ouverture, avis', () => page.reload());
    await page.reload();
    const notices = page.getByTestId('notices');
    await notices.getByText(/illisible/).first().waitFor();
    await failDuring('settings.dismissNotice', 'fermer un avis', () => notices.getByRole('button', { name: 'Fermer' }).first().click());
    // The notice was not closed on the main side: it is still there.
    expect(await notices.getByText(/illisible/).count()).toBeGreaterThan(0);
  });

  it('wizard: a refused licence key keeps the key and says why; then every step’s actions', async () => {
    await page.reload();
    const key = page.getByLabel('Clé de licence');
    // The licence service does not know this key: the reason stays under the field, with the key.
    await key.fill('ABCD-EFGH-JKMN-PQRS');
    await page.getByRole('button', { name: 'Valider la clé' }).click();
    await expect.poll(() => page.locator('#licence-key-error').textContent(), POLL).toMatch(/n'est pas reconnue/);
    expect(await key.inputValue()).toBe('ABCD-EFGH-JKMN-PQRS');

    await key.fill(TRY_VALUES.licenceKey);
    await failDuring('licence.setKey', 'assistant, « Valider la clé »', () => page.getByRole('button', { name: 'Valider la clé' }).click(), step(0));
    await page.getByRole('button', { name: 'Valider la clé' }).click();
    await step(0).getByText('Valide', { exact: true }).waitFor();
    await next();

    await step(1).waitFor();
    await failDuring('sqlServer.discover', 'assistant SQL Server, « Rechercher les serveurs »', () => step(1).getByTestId('discover-servers').click(), step(1));
    await failDuring('sqlServer.databases', 'assistant SQL Server, « Lister les bases »', () => step(1).getByTestId('discover-bases').click(), step(1));
    await failDuring('sqlServer.test', 'assistant SQL Server, « Tester la connexion »', () => step(1).getByRole('button', { name: 'Tester la connexion' }).click(), step(1));
    await failDuring('settings.update', 'assistant SQL Server, « Suivant »', () => next(), step(1));
    await next();
    await step(2).waitFor();
    await failDuring('buffer.test', 'assistant base tampon, « Tester la connexion »', () => step(2).getByRole('button', { name: 'Tester la connexion' }).click(), step(2));
    await next();
    await step(3).waitFor();
    await failDuring('batisimply.test', 'assistant BatiSimply, « Tester la connexion »', () => step(3).getByRole('button', { name: 'Tester la connexion' }).click(), step(3));
    await next();
    await step(4).getByText('Avancé', { exact: true }).click();
    await step(4).getByTestId('columns-chantier').waitFor();
    await failDuring('sqlServer.detectColumns', 'assistant options, « Détecter les colonnes »', () => step(4).getByRole('button', { name: 'Détecter les colonnes' }).click(), step(4));
    await failDuring('mapping.get', 'assistant, étape Salariés', () => next(), step(5));
    await retry(step(5));
    await step(5).getByTestId('mapping-table').waitFor();
    const u = stack.unmapped[0]!;
    await step(5).getByTestId(`map-${u.code}`).selectOption(u.userId);
    await failDuring('mapping.save', 'assistant Salariés, « Enregistrer »', () => step(5).getByTestId('mapping-save').click(), step(5));
    await step(5).getByTestId('mapping-save').click();
    await page.getByText('1 correspondance enregistrée.').first().waitFor();
    await next();
    await step(6).waitFor();
    // No scheduled run in the middle of this test: the automatic sync (on by default) is turned off here.
    await step(6).getByRole('switch', { name: 'Synchroniser automatiquement' }).click();
    await failDuring('schedule.set', 'assistant, « Terminer » (planification)', () => next(), step(6));
    await failDuring('settings.update', 'assistant, « Terminer »', () => next(), step(6));
    await next();
    await page.getByTestId('page-dashboard').waitFor();
  });

  it('dashboard: status, licence, connection checks, sync and cancel', async () => {
    const lastRuns = page.getByTestId('last-runs');
    await failDuring('sync.status', 'tableau de bord, dernières synchronisations', () => page.reload(), lastRuns);
    await failDuring('licence.status', 'tableau de bord, carte Licence', () => page.reload(), page.getByTestId('card-licence'));
    await failDuring('status.overview', 'tableau de bord, état du connecteur', () => page.reload(), page.getByTestId('page-dashboard'));
    await page.reload();
    await page.getByTestId('card-sql').getByText('Connecté').waitFor();
    const cards = { 'sqlServer.test': 'card-sql', 'buffer.test': 'card-buffer', 'batisimply.test': 'card-bs' } as const;
    for (const [channel, card] of Object.entries(cards)) {
      await failDuring(channel, 'tableau de bord, « Revérifier »', () => page.getByRole('button', { name: 'Revérifier' }).click(), page.getByTestId(card));
    }
    const panel = page.getByTestId('sync-panel');
    await failDuring('sync.run', 'tableau de bord, « Tout synchroniser »', () => page.getByTestId('sync-all').click(), panel);

    // The pause (schedule on, once a day: no scheduled run during the test).
    stack.app.settings.update({ schedule: { enabled: true, intervalSeconds: 86_400 } });
    const pause = page.getByTestId('pause-group');
    await pause.waitFor();
    await failDuring('schedule.pause', 'tableau de bord, « Suspendre 1 heure »', () => pause.getByRole('button', { name: '1 heure' }).click(), panel);
    await pause.getByRole('button', { name: '1 heure' }).click();
    const resume = page.getByTestId('resume');
    await resume.waitFor();
    await failDuring('schedule.resume', 'tableau de bord, « Reprendre »', () => resume.click(), panel);
    await resume.click();
    await pause.waitFor();
    stack.app.settings.update({ schedule: { enabled: false } });

    // A slow BatiSimply: the push runs long enough to be cancelled.
    const bs = stack.simulators.batisimply;
    bs.config.latencyMs = 300;
    try {
      await page.getByTestId('sync-push').click();
      await page.getByTestId('sync-cancel').waitFor();
      await failDuring('sync.cancel', 'tableau de bord, « Annuler »', () => page.getByTestId('sync-cancel').click(), panel);
      await page.getByTestId('sync-cancel').click();
      await waitIdle();
    } finally {
      bs.config.latencyMs = 0;
    }
    // One whole run, for the journal.
    await page.getByTestId('sync-all').click();
    await page.getByTestId('progress').waitFor().catch(() => undefined);
    await waitIdle();
  });

  it('journal: list, a run’s items, CSV export', async () => {
    await page.getByTestId('nav-dashboard').click();
    await failDuring('journal.list', 'journal, liste des exécutions', () => page.getByTestId('nav-journal').click(), page.getByTestId('page-journal'));
    await retry(page.getByTestId('page-journal'));
    const firstRun = page.getByTestId('journal-runs').locator('tbody tr').first();
    await firstRun.waitFor();
    await failDuring('journal.get', 'journal, détail d’une exécution', () => firstRun.click());
    await failDuring('journal.exportCsv', 'journal, « Exporter en CSV »', () => page.getByTestId('export-csv').click());
  });

  it('settings: the page, each section’s test and save, column detection, schedule', async () => {
    await nav('dashboard');
    await failDuring('settings.get', 'page Réglages', () => page.getByTestId('nav-settings').click());
    await retry(page.locator('main'));
    await page.getByTestId('page-settings').waitFor();
    await nav('dashboard');
    await failDuring('schedule.get', 'Réglages, planification', () => page.getByTestId('nav-settings').click(), page.getByTestId('settings-schedule'));
    await nav('dashboard');
    await nav('settings');
    const schedule = page.getByTestId('settings-schedule');
    await schedule.getByLabel('Intervalle', { exact: false }).first().waitFor();
    await failDuring('schedule.set', 'Réglages, planification, « Enregistrer cette section »', () => schedule.getByRole('button', { name: 'Enregistrer cette section' }).click(), schedule);
    const sections = { 'sqlServer.test': 'settings-sql', 'buffer.test': 'settings-buffer', 'batisimply.test': 'settings-bs' } as const;
    for (const [channel, id] of Object.entries(sections)) {
      const section = page.getByTestId(id);
      await failDuring(channel, `Réglages, ${id}, « Tester la connexion »`, () => section.getByRole('button', { name: 'Tester la connexion' }).click(), section);
    }
    const options = page.getByTestId('settings-options');
    await options.getByText('Avancé', { exact: true }).click();
    await failDuring('sqlServer.detectColumns', 'Réglages, options, « Détecter les colonnes »', () => options.getByRole('button', { name: 'Détecter les colonnes' }).click(), options);
    const general = page.getByTestId('settings-general');
    await failDuring('settings.update', 'Réglages, général, « Enregistrer cette section »', () => general.getByRole('button', { name: 'Enregistrer cette section' }).click(), general);
  });

  it('settings: updates, protection, maintenance, assistance', async () => {
    const card = (id: string) => page.getByTestId(id);
    const toSettings = async () => {
      await nav('dashboard');
      await page.getByTestId('nav-settings').click();
    };
    await failDuring('updates.status', 'Réglages, mises à jour', toSettings, card('settings-updates'));
    // Opening the app on Réglages (its address): the app's and the card's readings of the status fail.
    await failDuring('protection.status', 'ouverture sur Réglages, protection', () => page.reload(), card('settings-protection'));
    await failDuring('maintenance.log', 'Réglages, maintenance, dernières actions', toSettings, card('settings-maintenance'));
    await nav('dashboard');
    await nav('settings');

    // Mises à jour: an address, then « Rechercher maintenant ».
    const updates = card('settings-updates');
    await updates.getByLabel('Adresse des mises à jour').fill('https://maj.exemple.fr/connecteur/');
    await updates.getByRole('button', { name: 'Enregistrer cette section' }).click();
    await expect.poll(() => updates.getByRole('button', { name: 'Rechercher maintenant' }).isDisabled(), POLL).toBe(false);
    await failDuring('updates.check', 'Réglages, mises à jour, « Rechercher maintenant »', () => updates.getByRole('button', { name: 'Rechercher maintenant' }).click(), updates);

    // Maintenance.
    const maint = card('settings-maintenance');
    await failDuring('maintenance.verify', 'Réglages, maintenance, « Vérifier la base tampon »', () => maint.getByTestId('maint-verify').click(), maint);
    await failDuring('maintenance.recompare', 'Réglages, maintenance, « Recomparer »', () => maint.getByRole('button', { name: 'Recomparer' }).click(), maint);
    await maint.getByLabel('Plus anciennes que (jours)').fill('3650');
    await maint.getByRole('button', { name: 'Purger' }).click();
    await failDuring('maintenance.purgeJournal', 'Réglages, maintenance, « Purger » confirmé', () => maint.getByRole('button', { name: /^Confirmer la suppression/ }).click(), maint);
    await maint.getByLabel('Pour confirmer, tapez OUBLIER').fill('OUBLIER');
    await failDuring('maintenance.forget', "Réglages, maintenance, « Oublier l'état »", () => maint.getByRole('button', { name: 'Oublier l’état' }).click(), maint);

    // Postes: the list, and « Oublier ce poste » on a PC unseen for a month.
    const store = await stack.app.context.services.buffers.get(stack.app.settings.get().buffer);
    await store.db.query(
      "INSERT INTO machines (machine_id, name, app_version, schema_version, first_seen, last_heartbeat, heartbeat_ms) VALUES ('ancien-poste', 'PC-ANCIEN', '0.0.1', 1, now() - interval '60 days', now() - interval '30 days', 60000) ON CONFLICT DO NOTHING",
    );
    await failDuring('machines.list', 'Réglages, postes', toSettings, card('settings-machines'));
    await nav('dashboard');
    await nav('settings');
    const machines = card('settings-machines');
    await failDuring('machines.forget', 'Réglages, postes, « Oublier ce poste »', () => machines.getByRole('button', { name: 'Oublier le poste PC-ANCIEN' }).click(), machines);
    // Configuration partagée: export, and import of a chosen file.
    const share = card('settings-config-share');
    await failDuring('config.export', 'Réglages, configuration partagée, « Exporter la configuration »', () => share.getByRole('button', { name: 'Exporter la configuration' }).click(), share);
    const cfg = path.join(dir, 'configuration-autre-poste.json');
    fs.writeFileSync(cfg, '{}');
    await failDuring('config.import', 'Réglages, configuration partagée, fichier choisi', () => share.locator('#config-import-file').setInputFiles(cfg), share);

    // Chantiers: « Calculer l’aperçu » (what the scope would send, before a run).
    const chantiers = card('settings-chantiers');
    await failDuring('chantiers.preview', 'Réglages, chantiers, « Calculer l’aperçu »', () => chantiers.getByRole('button', { name: 'Calculer l’aperçu' }).click(), chantiers);

    // Assistance.
    const support = card('settings-support');
    await failDuring('diagnostics.export', 'Réglages, assistance, « Exporter un diagnostic »', () => support.getByTestId('export-diagnostic').click(), support);
    await support.getByTestId('export-diagnostic').click();
    await support.getByRole('button', { name: 'Afficher le fichier' }).waitFor();
    await failDuring('diagnostics.reveal', 'Réglages, assistance, « Afficher le fichier »', () => support.getByRole('button', { name: 'Afficher le fichier' }).click(), support);
    await failDuring('diagnostics.openLogFolder', 'Réglages, assistance, « Ouvrir le dossier des journaux »', () => support.getByTestId('open-logs').click(), support);

    // Protection: set, lock, unlock, remove.
    const protection = card('settings-protection');
    await protection.getByLabel('Code (4 à 12 chiffres)').fill('135790');
    await protection.getByLabel('Confirmer le code').fill('135790');
    await failDuring('protection.set', 'Réglages, protection, « Activer la protection »', () => protection.getByRole('button', { name: 'Activer la protection' }).click(), protection);
    await protection.getByRole('button', { name: 'Activer la protection' }).click();
    await protection.getByRole('button', { name: 'Verrouiller maintenant' }).waitFor();
    await failDuring('protection.lock', 'Réglages, protection, « Verrouiller maintenant »', () => protection.getByRole('button', { name: 'Verrouiller maintenant' }).click(), protection);
    await protection.getByRole('button', { name: 'Verrouiller maintenant' }).click();
    const prompt = page.getByTestId('pin-prompt');
    await prompt.waitFor();
    await prompt.getByLabel('Code (4 à 12 chiffres)').fill('135790');
    await failDuring('protection.unlock', 'page protégée, « Déverrouiller »', () => prompt.getByRole('button', { name: 'Déverrouiller' }).click(), prompt);
    await prompt.getByLabel('Code (4 à 12 chiffres)').fill('135790');
    await prompt.getByRole('button', { name: 'Déverrouiller' }).click();
    await page.getByTestId('page-settings').waitFor();
    await card('settings-protection').getByLabel('Code actuel').fill('135790');
    await failDuring('protection.clear', 'Réglages, protection, « Retirer la protection »', () => card('settings-protection').getByRole('button', { name: 'Retirer la protection' }).click(), card('settings-protection'));
    await card('settings-protection').getByRole('button', { name: 'Retirer la protection' }).click();
    await card('settings-protection').getByRole('button', { name: 'Activer la protection' }).waitFor();
  });

  it('licence page: status, check, key', async () => {
    await nav('dashboard');
    await failDuring('licence.status', 'page Licence', () => page.getByTestId('nav-licence').click(), page.getByTestId('page-licence'));
    await retry(page.getByTestId('page-licence'));
    const licencePage = page.getByTestId('page-licence');
    await licencePage.getByRole('button', { name: 'Vérifier la licence' }).waitFor();
    await failDuring('licence.check', 'page Licence, « Vérifier la licence »', () => licencePage.getByRole('button', { name: 'Vérifier la licence' }).click(), licencePage);
    await licencePage.getByLabel('Clé de licence').fill(TRY_VALUES.licenceKey);
    await failDuring('licence.setKey', 'page Licence, « Valider la clé »', () => licencePage.getByRole('button', { name: 'Valider la clé' }).click(), licencePage);
  });

  it('mapping page: the list, saving, creating the codebs column', async () => {
    await nav('dashboard');
    await page.getByTestId('nav-mapping').click();
    await page.getByTestId('mapping-table').waitFor();
    await failDuring('mapping.get', 'page Correspondance salariés, « Actualiser »', () => page.getByTestId('mapping-refresh').click(), page.getByTestId('page-mapping'));
    await retry(page.getByTestId('page-mapping'));
    const u = stack.unmapped[1]!;
    await page.getByTestId(`map-${u.code}`).selectOption(u.userId);
    await failDuring('mapping.save', 'page Correspondance salariés, « Enregistrer »', () => page.getByTestId('mapping-save').click(), page.getByTestId('page-mapping'));
    // Without the codebs column in Batigest, the page offers to create it.
    await stack.simulators.backend.adminExec(TRY_VALUES.database, 'ALTER TABLE "Salarie" DROP COLUMN "codebs"');
    // Columns are detected once per connection: a change of the SQL Server settings reconnects.
    stack.app.settings.update({ sqlServer: { requestTimeoutMs: 61_000 } });
    // The page keeps its lists for the session: « Actualiser » reads them again, once the unsaved choice is
    // given up (the page asks).
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('mapping-refresh').click();
    const create = page.getByRole('button', { name: 'Créer la colonne de correspondance' });
    await create.waitFor();
    await failDuring('mapping.createCodebsColumn', 'page Correspondance salariés, « Créer la colonne de correspondance »', () => create.click(), page.getByTestId('page-mapping'));
  });

  it('imports: the connection test, the dashboard card and « Réessayer »', async () => {
    await nav('dashboard');
    await nav('settings');
    const card = page.getByTestId('settings-imports');
    await failDuring('imports.test', 'Réglages › Imports, « Tester la connexion »', () => card.getByTestId('imports-test').click(), card);
    await nav('dashboard');
    await failDuring('imports.status', 'tableau de bord, carte Imports', () => page.reload(), page.getByTestId('card-imports'));
    // An export whose file arrives altered: put in error after three downloads, with « Réessayer ».
    const sim = stack.simulators.exports;
    sim.add({ id: 'EXP-ALT', fileName: 'devis-altere.xml', content: '<Devis/>' });
    sim.faults.badChecksum.set('EXP-ALT', Infinity);
    await page.reload();
    const imports = page.getByTestId('card-imports');
    await imports.getByTestId('imports-run').click();
    const item = imports.locator('[data-export="EXP-ALT"]');
    await item.waitFor({ timeout: 90_000 });
    await failDuring('imports.retry', 'tableau de bord, carte Imports, « Réessayer »', () => item.getByRole('button', { name: /Réessayer l’import/ }).click());
    await waitIdle();
  });

  it('the « licence blocked » screen: check and key', async () => {
    stack.simulators.licences.setActive(TRY_VALUES.licenceKey, false);
    await nav('licence');
    await page.getByTestId('page-licence').getByRole('button', { name: 'Vérifier la licence' }).click();
    await page.getByTestId('page-licence').getByText('Désactivée', { exact: true }).first().waitFor();
    await page.getByTestId('nav-dashboard').click();
    const blocked = page.getByTestId('licence-expired');
    await blocked.waitFor();
    await failDuring('licence.check', 'écran « licence bloquée », « Vérifier la licence »', () => blocked.getByRole('button', { name: 'Vérifier la licence' }).click(), blocked);
    await blocked.getByLabel('Clé de licence').fill(TRY_VALUES.licenceKey);
    await failDuring('licence.setKey', 'écran « licence bloquée », « Valider la clé »', () => blocked.getByRole('button', { name: 'Valider la clé' }).click(), blocked);
  });

  it('every channel of the contract was made to fail and shown, except those no UI action calls', () => {
    const renderer = readTree(path.join(ROOT, 'src', 'renderer'));
    for (const channel of NOT_CALLED_BY_THE_UI) expect(renderer, `${channel} is called by the renderer: list its UI actions here`).not.toContain(`'${channel}'`);
    const missing = Object.keys(contract).filter((c) => !covered.has(c) && !NOT_CALLED_BY_THE_UI.includes(c));
    expect(missing).toEqual([]);
    // Several UI actions call the same channel: each was checked.
    expect(covered.get('settings.update')).toHaveLength(3);
    expect(covered.get('sqlServer.test')).toHaveLength(3);
    expect(covered.get('licence.setKey')).toHaveLength(3);
  });
});

function readTree(d: string): string {
  return fs
    .readdirSync(d, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? readTree(path.join(d, e.name)) : /\.tsx?$/.test(e.name) ? fs.readFileSync(path.join(d, e.name), 'utf8') : ''))
    .join('\n');
}
