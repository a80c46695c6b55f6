/**
 * The screens as an integrator and an office manager use them (issue 21), in Debian Chromium against the app of
 * `npm run try` (real services, simulators), with nothing pre-filled:
 *  - a message belongs to the attempt that produced it (field messages go once the field is edited or the test
 *    succeeds; the licence step's refusal goes once the key is valid);
 *  - the focus goes to the new step's heading or to the result message after each step, test, « Accepter »,
 *    « Enregistrer » and after starting a sync; the progress live region speaks at most every few seconds;
 *  - the mapping page: unmapped salariés first, changed rows marked, the arrow keys never change a closed list,
 *    a reassignment is confirmed, leaving with unsaved changes asks, the lists are kept for the session;
 *  - the search ignores accents and case;
 *  - axe-core finds no violation on any page state; every state is screenshot at 1280×800 and 1920×1080.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTryStack, TRY_VALUES, type TryStack } from '../../src/main/try.js';
import { foldForSearch } from '../../src/shared/text-search.js';
import { startSqlBrowser, startTdsSimulator, type SqlBrowser } from '../support/tds/index.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, E2E_TEST_MS, POLL, WAIT_MS } from './harness.js';
import { checkedStates, reviewState } from './a11y.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-integrator-'));
let stack: TryStack;
let context: BrowserContext;
let page: Page;
/** mapping.get calls seen by the app (the lists are kept for the session). */
let mappingReads = 0;
/** The office's SQL Server as discovery finds it: a SQL Browser on its own loopback address, instance SAGE. */
const SQL_HOST = '127.0.21.34';
let tds: Awaited<ReturnType<typeof startTdsSimulator>>;
let browser: SqlBrowser;

beforeAll(async () => {
  stack = await startTryStack({
    dataDir: path.join(dir, 'data'),
    prefill: false,
    wrapRouter: (router) => ({
      channels: router.channels,
      invoke(channel, input, ctx) {
        if (channel === 'mapping.get') mappingReads++;
        return router.invoke(channel, input, ctx);
      },
    }),
  });
  // The same company database, served on the office server's address; two other databases, one the login
  // may not open; the browser lists SAGE and a second instance.
  const backend = stack.simulators.backend;
  await backend.adminExec('COMPTA_2025', 'CREATE TABLE "Ecriture" ("Id" integer PRIMARY KEY)');
  await backend.adminExec('RH_PRIVE', 'CREATE TABLE "Salarie" ("Code" varchar(8) PRIMARY KEY)');
  tds = await startTdsSimulator({
    backend,
    host: SQL_HOST,
    port: 0,
    logins: { [stack.sql.user]: stack.sql.password },
    access: { [stack.sql.user]: [stack.sql.database, 'COMPTA_2025'] },
    tls: { mode: 'off' },
  });
  browser = await startSqlBrowser({ host: SQL_HOST, port: 1434, serverName: 'SRV-BUREAU', instances: [{ name: 'SAGE', tcpPort: tds.port }, { name: 'COMPTA', tcpPort: 1 }] });
  context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
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
  await browser?.close();
  await tds?.close();
  await stack?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const step = (n: number) => page.getByTestId(`wizard-step-${n}`);
const next = () => page.getByTestId('wizard-next').click();
const focusedId = () => page.evaluate(() => document.activeElement?.id ?? '');
const focusedTestId = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? '');
async function expectNoViolations(name: string): Promise<void> {
  const v = await reviewState(page, name);
  expect(v, `${name}: ${JSON.stringify(v, null, 1)}`).toEqual([]);
}
/** The wizard moved to step n: its heading has the focus and says which step it is. */
async function expectStepFocused(n: number): Promise<void> {
  await step(n).waitFor();
  await expect.poll(focusedId, POLL).toBe('wizard-step-title');
  expect(await page.locator('#wizard-step-title').textContent()).toMatch(new RegExp(`^Étape ${n + 1} sur 7\u00a0: `));
}

describe('the screens of an integrator and an office manager', { timeout: E2E_TEST_MS }, () => {
  it('wizard: messages belong to their attempt, the focus follows each step and each test', async () => {
    await page.getByTestId('wizard').waitFor();
    await expectNoViolations('wizard-1-licence');
    // Going on without a licence: the refusal, focused.
    await next();
    await expect.poll(focusedId, POLL).toBe('wizard-step-error');
    await expectNoViolations('wizard-1-licence-refused');
    await page.getByLabel('Clé de licence').fill(TRY_VALUES.licenceKey);
    await page.getByRole('button', { name: 'Valider la clé' }).click();
    await step(0).getByText('Valide', { exact: true }).waitFor();
    // The refusal belonged to the attempt without a key: gone once the key is valid.
    expect(await page.locator('#wizard-step-error').count()).toBe(0);
    await expect.poll(focusedId, POLL).toBe('wizard-licence-result');
    await expectNoViolations('wizard-1-licence-valid');
    await next();

    // SQL Server: « Suivant » with nothing typed, then the fields one by one.
    await expectStepFocused(1);
    await next();
    await expect.poll(() => step(1).locator('.field .error').count(), POLL).toBeGreaterThanOrEqual(3);
    // The focus goes to the first field refused.
    await expect.poll(focusedId, POLL).toBe('sql-server');
    await expectNoViolations('wizard-2-sql-required');
    // Discovery: the office server's SQL Browser lists its instances; one click fills the field.
    await page.getByLabel('Serveur SQL Server').fill(SQL_HOST);
    // The server's message goes as soon as it is typed; the others stay until their field is.
    expect(await page.locator('#sql-server-error').count()).toBe(0);
    expect(await page.locator('#sql-database-error').textContent()).toBe('Ce champ est obligatoire.');
    await page.getByTestId('discover-servers').click();
    const servers = page.getByTestId('discovered-servers');
    await servers.waitFor();
    await expect.poll(focusedId, POLL).toBe('sql-discovery-servers');
    expect(await servers.locator('code').allTextContents()).toEqual([`${SQL_HOST}\\COMPTA`, `${SQL_HOST}\\SAGE`]);
    await expectNoViolations('wizard-2-sql-servers');
    await servers.getByRole('button', { name: `Utiliser le serveur ${SQL_HOST}\\SAGE` }).click();
    expect(await page.getByLabel('Serveur SQL Server').inputValue()).toBe(`${SQL_HOST}\\SAGE`);
    await expect.poll(focusedId, POLL).toBe('sql-server');
    // The databases this login may open, the company first and marked; RH_PRIVE (no access) is not listed.
    await page.getByLabel('Utilisateur').fill(stack.sql.user);
    await page.getByLabel('Mot de passe').fill(stack.sql.password);
    await page.getByTestId('discover-bases').click();
    const bases = page.getByTestId('discovered-bases');
    await bases.waitFor();
    await expect.poll(focusedId, POLL).toBe('sql-discovery-bases');
    expect(await bases.locator('code').allTextContents()).toEqual([stack.sql.database, 'COMPTA_2025']);
    expect(await bases.getByTestId(`base-${stack.sql.database}`).textContent()).toContain('Société Sage Batigest');
    expect(await bases.getByTestId('base-COMPTA_2025').textContent()).toContain('pas une société');
    await expectNoViolations('wizard-2-sql-bases');
    await bases.getByRole('button', { name: `Utiliser la base ${stack.sql.database}` }).click();
    expect(await page.getByLabel('Base de données Sage Batigest').inputValue()).toBe(stack.sql.database);
    expect(await page.locator('#sql-database-error').count()).toBe(0);
    await page.getByLabel('Mot de passe').fill('pas-le-bon');
    await step(1).getByRole('button', { name: 'Tester la connexion' }).click();
    await step(1).getByText('Connexion impossible', { exact: true }).waitFor();
    await expect.poll(focusedId, POLL).toBe('wizard-diag-sql');
    await page.getByLabel('Mot de passe').fill(stack.sql.password);
    await step(1).getByRole('button', { name: 'Tester la connexion' }).click();
    await step(1).getByText('Connexion réussie', { exact: true }).waitFor();
    expect(await step(1).getByText('Ce champ est obligatoire.').count()).toBe(0);
    expect(await step(1).getByText('Connexion impossible').count()).toBe(0);
    await expect.poll(focusedId, POLL).toBe('wizard-diag-sql');
    await expectNoViolations('wizard-2-sql-ok');
    await next();

    // Buffer: embedded (the default).
    await expectStepFocused(2);
    await expectNoViolations('wizard-3-buffer');
    await next();

    // BatiSimply: production by default, the simulator is « Personnalisé » under « Avancé ».
    await expectStepFocused(3);
    expect(await step(3).getByTestId('bs-advanced').getAttribute('open')).toBeNull();
    await expectNoViolations('wizard-4-batisimply');
    expect(await step(3).innerText()).not.toMatch(/client_credentials|\(SSO\)|staging|Recette/);
    await step(3).getByText('Avancé', { exact: true }).click();
    expect(await page.getByLabel('Production').isChecked()).toBe(true);
    await page.getByLabel('Personnalisé').check();
    await page.getByLabel('Adresse du serveur de connexion').fill(stack.batisimply.ssoUrl);
    await page.getByLabel('Adresse de l’API').fill(stack.batisimply.apiUrl);
    await page.getByLabel('Identifiant client').fill(stack.batisimply.clientId);
    await page.getByLabel('Secret client').fill(stack.batisimply.clientSecret);
    await page.getByLabel('Utilisateur BatiSimply').fill(stack.batisimply.username);
    await page.getByLabel('Mot de passe BatiSimply').fill(stack.batisimply.password);
    await expectNoViolations('wizard-4-batisimply-advanced');
    await next();

    // Options: the column mapping is under « Avancé ».
    await expectStepFocused(4);
    expect(await step(4).getByTestId('options-advanced').getAttribute('open')).toBeNull();
    expect(await page.getByRole('switch', { name: 'Retirer les heures dévalidées ou supprimées dans BatiSimply' }).getAttribute('aria-describedby')).toBeTruthy();
    await expectNoViolations('wizard-5-options');
    await step(4).getByText('Avancé', { exact: true }).click();
    await step(4).getByTestId('columns-chantier').waitFor();
    await expectNoViolations('wizard-5-options-columns');
    await next();

    await expectStepFocused(5);
    await step(5).getByTestId('mapping-table').waitFor();
    await expectNoViolations('wizard-6-mapping');
    await next();
    await expectStepFocused(6);
    await page.getByRole('switch', { name: 'Synchroniser automatiquement' }).click();
    await expectNoViolations('wizard-7-schedule');
    await next();
    await page.getByTestId('page-dashboard').waitFor();
  });

  it('mapping page: unmapped first, arrow keys, changed rows, reassignment, leaving, search, session lists', async () => {
    await page.getByTestId('nav-mapping').click();
    await page.getByTestId('mapping-table').waitFor();
    const readsAfterFirstVisit = mappingReads;
    const rows = page.getByTestId('mapping-table').locator('tbody tr');
    await expectNoViolations('mapping');

    // Salariés without a user come first.
    const keys = await rows.evaluateAll((trs) => trs.map((tr) => ({ key: tr.getAttribute('data-key') ?? '', highlight: tr.classList.contains('highlight') })));
    const firstMapped = keys.findIndex((k) => !k.highlight);
    expect(firstMapped).toBeGreaterThan(0);
    expect(keys.slice(firstMapped).every((k) => !k.highlight)).toBe(true);
    for (const u of stack.unmapped) expect(keys.findIndex((k) => k.key === u.code)).toBeLessThan(firstMapped);

    // One ArrowDown on a closed list changes nothing.
    const mapped = keys[firstMapped]!.key;
    const mappedSelect = page.getByTestId(`map-${mapped}`);
    const before = await mappedSelect.inputValue();
    await mappedSelect.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    expect(await mappedSelect.inputValue()).toBe(before);
    expect(await page.getByTestId('mapping-save').textContent()).toBe('Enregistrer');
    // The full e-mail of the chosen user is shown, outside the list.
    const email = page.getByTestId(`map-email-${mapped}`);
    expect((await email.textContent()) ?? '').toMatch(/@/);

    // Choosing a user already mapped to another salarié asks first.
    const u = stack.unmapped[0]!;
    await page.getByTestId(`map-${u.code}`).selectOption(before);
    const question = page.getByTestId('mapping-reassign');
    await question.waitFor();
    await expect.poll(focusedId, POLL).toBe('mapping-reassign');
    await expectNoViolations('mapping-reassign');
    await question.getByRole('button', { name: 'Annuler' }).click();
    expect(await page.getByTestId(`map-${u.code}`).inputValue()).toBe('');
    expect(await mappedSelect.inputValue()).toBe(before);
    await expect.poll(focusedTestId, POLL).toBe(`map-${u.code}`);

    // « Accepter » a suggestion: the row is marked, the focus goes to its list.
    const row = rows.filter({ has: page.getByTestId(`map-${u.code}`) });
    await row.getByRole('button', { name: /^Accepter/ }).click();
    await expect.poll(focusedTestId, POLL).toBe(`map-${u.code}`);
    expect(await page.getByTestId(`map-${u.code}`).inputValue()).toBe(u.userId);
    expect(await row.getAttribute('class')).toContain('changed');
    expect(await row.textContent()).toContain('Modifié');
    await expectNoViolations('mapping-changed');

    // Leaving with an unsaved change asks; « Annuler » stays on the page.
    const dialogs: string[] = [];
    page.once('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.getByTestId('nav-journal').click();
    await expect.poll(() => dialogs.length, POLL).toBe(1);
    expect(dialogs[0]).toBe('1 correspondance modifiée n’est pas enregistrée. Quitter la page sans les enregistrer\u00a0?');
    expect(await page.getByTestId('page-mapping').isVisible()).toBe(true);
    expect(await page.getByTestId(`map-${u.code}`).inputValue()).toBe(u.userId);

    // Saved: the message says so and takes the focus.
    await page.getByTestId('mapping-save').click();
    await page.locator('#mapping-result').getByText('1 correspondance enregistrée.').waitFor();
    await expect.poll(focusedId, POLL).toBe('mapping-result');
    expect(await row.getAttribute('class') ?? '').not.toContain('changed');
    await expectNoViolations('mapping-saved');

    // Accents and case do not matter in the search.
    const names = await page.getByTestId('mapping-table').locator('tbody tr td:nth-child(2) strong').allTextContents();
    const accented = names.find((n) => foldForSearch(n) !== n.toLocaleLowerCase('fr-FR'));
    expect(accented, 'the dataset has an accented name').toBeTruthy();
    const word = accented!.split(' ').find((w) => foldForSearch(w) !== w.toLocaleLowerCase('fr-FR'))!;
    const typed = foldForSearch(word).toUpperCase();
    await page.getByLabel('Rechercher un salarié').fill(typed);
    const found = await page.getByTestId('mapping-table').locator('tbody tr td:nth-child(2) strong').allTextContents();
    expect(found).toContain(accented);
    expect(found.every((n) => foldForSearch(n).includes(foldForSearch(word)))).toBe(true);
    await expectNoViolations('mapping-search');
    await page.getByLabel('Rechercher un salarié').fill('');

    // Kept for the session: another visit reads nothing; « Actualiser » reads the lists again.
    await page.getByTestId('nav-dashboard').click();
    await page.getByTestId('page-dashboard').waitFor();
    await page.getByTestId('nav-mapping').click();
    await page.getByTestId('mapping-table').waitFor();
    expect(mappingReads).toBe(readsAfterFirstVisit + 0);
    await page.getByTestId('mapping-refresh').click();
    await expect.poll(() => mappingReads, POLL).toBe(readsAfterFirstVisit + 1);
  });

  it('dashboard: starting a sync moves the focus to its state; the live region speaks at most every 4 s', async () => {
    await page.getByTestId('nav-dashboard').click();
    await page.getByTestId('page-dashboard').waitFor();
    await expectNoViolations('dashboard');
    // Record when the announcer's text changes.
    await page.evaluate(() => {
      const w = window as unknown as { announced: { at: number; text: string }[]; panelChanges: number };
      w.announced = [];
      w.panelChanges = 0;
      const el = document.querySelector('[data-testid="progress-announce"]')!;
      new MutationObserver(() => w.announced.push({ at: performance.now(), text: el.textContent ?? '' })).observe(el, { childList: true, characterData: true, subtree: true });
      // The visible panel, which follows every progress event (it is not a live region).
      new MutationObserver(() => w.panelChanges++).observe(document.getElementById('sync-state')!, { childList: true, characterData: true, subtree: true });
    });
    const bs = stack.simulators.batisimply;
    bs.config.latencyMs = 800;
    // BatiSimply refuses one project with its own reason: the journal item must keep it.
    const refusal = bs.faults.add({ route: 'POST /api/project', status: 400, body: { title: 'Bad Request', detail: 'projectName invalide', message: 'error.http.400' } });
    try {
      await page.getByTestId('sync-push').click();
      await expect.poll(focusedId, POLL).toBe('sync-state');
      await page.getByTestId('progress').waitFor();
      await expectNoViolations('dashboard-running');
      await expect.poll(() => page.getByText('Aucune synchronisation en cours.').isVisible(), { timeout: 120_000, interval: 250 }).toBe(true);
    } finally {
      bs.config.latencyMs = 0;
    }
    expect(refusal.hits).toBe(1);
    await expect.poll(() => page.getByTestId('progress-announce').textContent(), POLL).toMatch(/^Synchronisation terminée/);
    const { announced, panelChanges } = await page.evaluate(() => {
      const w = window as unknown as { announced: { at: number; text: string }[]; panelChanges: number };
      return { announced: w.announced, panelChanges: w.panelChanges };
    });
    const texts = announced.filter((a) => a.text !== '');
    // « en cours » (with the count) on the way, the result at the end…
    expect(texts.length).toBeGreaterThanOrEqual(2);
    expect(texts[0]!.text).toMatch(/^Synchronisation en cours/);
    expect(texts.at(-1)!.text).toMatch(/^Synchronisation terminée/);
    // …while the panel changed with each event; never two announcements within 4 s.
    expect(panelChanges).toBeGreaterThan(texts.length);
    for (let i = 1; i < texts.length; i++) expect(texts[i]!.at - texts[i - 1]!.at).toBeGreaterThanOrEqual(3900);
    await expectNoViolations('dashboard-after-sync');
  });

  it('every other page state passes axe and is screenshot at both sizes', async () => {
    for (const p of ['journal', 'settings', 'licence'] as const) {
      await page.getByTestId(`nav-${p}`).click();
      await page.getByTestId(`page-${p}`).waitFor();
      await expect.poll(() => page.locator('#main [role=status], #main table, #main form').count(), POLL).toBeGreaterThan(0);
      await expectNoViolations(p);
    }
    // Réglages: a field's message goes once the field is typed again; a test's result takes the focus.
    await page.getByTestId('nav-settings').click();
    const sqlCard = page.getByTestId('settings-sql');
    await sqlCard.getByLabel('Serveur SQL Server').fill('');
    await sqlCard.getByRole('button', { name: 'Enregistrer cette section' }).click();
    await expect.poll(() => sqlCard.locator('#sql-server-error').count(), POLL).toBe(1);
    await expect.poll(focusedId, POLL).toBe('sql-server');
    await sqlCard.getByLabel('Serveur SQL Server').fill(`${SQL_HOST}\\SAGE`);
    expect(await sqlCard.locator('#sql-server-error').count()).toBe(0);
    await sqlCard.getByRole('button', { name: 'Tester la connexion' }).click();
    await sqlCard.getByText('Connexion réussie', { exact: true }).waitFor();
    await expect.poll(focusedId, POLL).toBe('settings-diag-sql');
    await page.getByTestId('settings-options').getByText('Avancé', { exact: true }).click();
    await expectNoViolations('settings-tested-advanced');

    // An import of the hours: the salarié left without a user waits, and the journal links to the fixing screen.
    await page.getByTestId('nav-dashboard').click();
    await page.getByTestId('sync-hours').click();
    // Over once the journal has it with its result (two runs, the newest not « En cours »).
    const runRows = page.getByTestId('journal-runs').locator('tbody tr');
    await expect
      .poll(
        async () => {
          await page.getByTestId('nav-dashboard').click();
          await page.getByTestId('nav-journal').click();
          await runRows.first().waitFor();
          return (await runRows.count()) === 2 && !((await runRows.first().textContent()) ?? '').includes('En cours');
        },
        { timeout: 120_000, interval: 500 },
      )
      .toBe(true);
    const hoursRun = runRows.first();
    await hoursRun.click();
    const link = page.getByTestId('items-table').getByRole('link', { name: 'Correspondance des salariés' }).first();
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe('#/mapping');
    const itemsText = (await page.getByTestId('items-table').textContent()) ?? '';
    expect(itemsText).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}/);
    expect(itemsText).not.toMatch(/not-validated/);
    await expectNoViolations('journal-hours-run');
    await link.click();
    await page.getByTestId('page-mapping').waitFor();
    await page.getByTestId('nav-journal').click();
    const firstRun = page.getByTestId('journal-runs').locator('tbody tr').nth(1);
    await firstRun.click();
    await page.getByTestId('run-items').waitFor();
    // The refused chantier: named as a person knows it, with BatiSimply's reason.
    const failed = page.getByTestId('items-table').locator('tbody tr').first();
    await failed.waitFor();
    const [reference, reason] = await Promise.all([failed.locator('td').nth(1).textContent(), failed.locator('td').nth(3).textContent()]);
    expect(reference).toMatch(/^Chantier \S+$/);
    expect(reason).toContain('« projectName invalide »');
    await expectNoViolations('journal-run');
    expect(checkedStates.filter((s) => s.violations.length > 0)).toEqual([]);
  });

  it('the « licence blocked » screen says each check once', async () => {
    stack.simulators.licences.setActive(TRY_VALUES.licenceKey, false);
    await page.getByTestId('nav-licence').click();
    await page.getByTestId('page-licence').getByRole('button', { name: 'Vérifier la licence' }).click();
    await page.getByTestId('page-licence').getByText('Désactivée', { exact: true }).first().waitFor();
    await page.getByTestId('nav-dashboard').click();
    const screen = page.getByTestId('licence-expired');
    await screen.waitFor();
    const text = (await screen.innerText()).replace(/\s+/g, ' ');
    expect(text.match(/Dernière vérification/g)).toHaveLength(1);
    expect(text.match(/Prochaine vérification/g)).toHaveLength(1);
    expect(await screen.getByTestId('licence-checks').textContent()).toMatch(
      /^Dernière vérification\u00a0: \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}\. Prochaine vérification\u00a0: \d{2}\/\d{2}\/\d{4} \d{2}:\d{2} \(la licence est vérifiée de nouveau toutes les 5\u00a0minutes\)\.$/,
    );
    await expectNoViolations('licence-blocked');
    stack.simulators.licences.setActive(TRY_VALUES.licenceKey, true);
  });
});
