/**
 * `npm run demo` — the main job, end to end, with nothing to install or configure:
 *  1. starts a SQL Server simulator (TDS protocol over an embedded PGlite) holding a generated Batigest
 *     company, and a BatiSimply simulator (Keycloak token endpoint + REST API) with matching users;
 *  2. runs a full sync through the real services (Batigest gateway over mssql, BatiSimply client over
 *     HTTP, embedded buffer in .demo-data/), with progress;
 *  3. runs it again and shows that the second run changes nothing;
 *  4. the import agent (optional module): an exports API simulator's devis and bons de commande dropped into a
 *     simulated Batigest import folder (a « Batigest importer » takes them), marked synced, archived.
 *
 * Demo-only pieces live here and in test/support: the simulators, and an in-process demo licence
 * (the product's licence client is not used; nothing in src/main/services is bypassed).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChannelName, ChannelOutput, InvokeArgs, Result, RunSummary } from '../shared/contract.js';
import type { ProgressEvent } from '../shared/domain.js';
import type { SettingsPatch } from '../shared/contract.js';
import type { App } from './app.js';
import { progressPrinter, type CliIo } from './cli.js';
import { countFr, DEMO_STATUS_FR, demoVerdict } from './demo-verdict.js';
import { defaultFeatures } from './features/index.js';
import { applyMemoryProfile } from './memory-profile.js';
import { createNodeApp, nodeLogger } from './composition/node-app.js';
import { createPgliteBackend, startTdsSimulator } from '../../test/support/tds/index.js';
import { SIM_DEFAULT_CREDENTIALS, startBatisimplySimulator } from '../../test/support/batisimply/index.js';
import { batisimplyUsersFor, generateBatigestCompany, loadBatigestCompany } from '../../test/support/datasets/batigest.js';
import { startBatigestImporter } from '../../test/support/exports/importer.js';
import { startExportsSim } from '../../test/support/exports/server.js';

const CHANTIERS = Number(process.env.DEMO_CHANTIERS ?? 300);
const SALARIES = Number(process.env.DEMO_SALARIES ?? 40);
const SLOTS = Number(process.env.DEMO_SLOTS ?? 2000);
const DATABASE = 'BTG_DEMO';

const io: CliIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), isTTY: !!process.stdout.isTTY, env: process.env };
const say = (s = ''): void => void process.stdout.write(`${s}\n`);
const ms = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The demo is a client of the app's handler map, like the window and the CLI. */
async function call<K extends ChannelName>(app: App, channel: K, ...args: InvokeArgs<K>): Promise<ChannelOutput<K>> {
  const r = (await app.router.invoke(channel, args[0], { host: 'demo' })) as Result<ChannelOutput<K>>;
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** One sync job with a progress bar: its journal lines. */
async function syncJob(app: App, flow: 'push' | 'hours' | 'imports' | 'all'): Promise<RunSummary[]> {
  const bar = progressPrinter(io);
  const off = app.onEvent((event, payload) => {
    if (event === 'sync:progress') bar.update(payload as ProgressEvent);
  });
  try {
    return (await call(app, 'sync.run', { flow, wait: true })).runs ?? [];
  } finally {
    off();
    bar.done();
  }
}

function printRun(s: RunSummary): void {
  const c = s.counts;
  const what =
    s.flow === 'push'
      ? `${countFr(c.created, 'projet créé', 'projets créés')}, ${countFr(c.updated, 'mis à jour', 'mis à jour')}, ${countFr(c.unchanged, 'inchangé', 'inchangés')}, ${countFr(c.skipped, 'ignoré', 'ignorés')}, ${c.failed} en erreur, ${countFr(c.writes, 'écriture', 'écritures')} BatiSimply`
      : `${countFr(c.created, 'créneau importé', 'créneaux importés')}, ${countFr(c.updated, 'modifié', 'modifiés')}, ${countFr(c.unchanged, 'inchangé', 'inchangés')}, ${countFr(c.skipped, 'ignoré', 'ignorés')}, ${c.failed} en erreur, ${countFr(c.writes, 'écriture', 'écritures')} SuiviMO`;
  if (s.flow === 'imports') {
    say(`  Exports → Batigest    : ${s.message ?? ''} — exécution ${DEMO_STATUS_FR[s.status]}`);
    return;
  }
  say(`  ${s.flow === 'push' ? 'Chantiers → BatiSimply' : 'Heures → Batigest   '} : ${what}${c.conflicts ? `, ${countFr(c.conflicts, 'conflit', 'conflits')}` : ''} — exécution ${DEMO_STATUS_FR[s.status]}`);
}

async function main(): Promise<number> {
  const root = process.cwd();
  // DEMO_DATA_DIR: another data folder (the test of this command runs it in a temporary one).
  const dataDir = process.env.DEMO_DATA_DIR ? path.resolve(process.env.DEMO_DATA_DIR) : path.join(root, '.demo-data');
  fs.rmSync(path.join(dataDir, 'buffer'), { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const logger = nodeLogger(dataDir, { retainDays: 7 });
  const t0 = performance.now();

  say('Connecteur Batigest ↔ BatiSimply — démonstration');
  say('');
  say(`Préparation : société Batigest générée (${CHANTIERS} chantiers, ${SALARIES} salariés), simulateurs SQL Server et BatiSimply…`);
  const company = generateBatigestCompany({ seed: 42, chantiers: CHANTIERS, devis: 50, salaries: SALARIES, suiviMo: 0, variant: 'v1', withCodebs: true });
  const backend = await createPgliteBackend({ serverParams: ['-c', 'shared_buffers=32MB'] });
  await loadBatigestCompany(backend, DATABASE, company);
  const tds = await startTdsSimulator({ backend, logins: { connecteur: 'Demo#2026' } });
  const users = batisimplyUsersFor(company);
  const bs = await startBatisimplySimulator({ seed: { users: users.map((u) => ({ id: u.id, firstName: u.firstName, lastName: u.lastName, email: u.email, login: u.login })) } });
  // A few projects were already created by hand in BatiSimply: the connector adopts them instead of duplicating.
  const adoptedByHand = company.chantiers.filter((c) => c.description).slice(0, 15);
  for (const c of adoptedByHand) bs.state.addProject({ projectCode: c.code, projectName: c.description ?? c.nomClient, customerName: c.nomClient });
  const exportsApi = await startExportsSim({ apiKey: 'cle-demo-exports' });
  exportsApi.seed(Number(process.env.DEMO_EXPORTS ?? 8));
  const importDir = path.join(dataDir, 'batigest-import');
  fs.rmSync(path.join(dataDir, 'imports'), { recursive: true, force: true });
  fs.mkdirSync(importDir, { recursive: true });
  const importer = startBatigestImporter(importDir, { delayMs: 200, pollMs: 50 });
  const mapped = company.salaries.filter((s) => s.codebs).length;
  say(`  SQL Server simulé sur 127.0.0.1:${tds.port}, BatiSimply simulé sur ${bs.apiUrl}`);
  say(`  ${mapped}/${company.salaries.length} salariés associés à un utilisateur BatiSimply ; ${adoptedByHand.length} projets déjà présents dans BatiSimply.`);

  const settings: SettingsPatch = {
    machineName: 'PC-DEMO',
    mode: 'chantier',
    setupCompleted: true,
    sqlServer: { server: `127.0.0.1,${tds.port}`, database: DATABASE, user: 'connecteur', password: 'Demo#2026', encrypt: false, trustServerCertificate: true },
    buffer: { kind: 'embedded', embeddedPath: path.join(dataDir, 'buffer') },
    batisimply: {
      environment: 'custom',
      ssoUrl: bs.ssoUrl,
      apiUrl: bs.apiUrl,
      ...SIM_DEFAULT_CREDENTIALS,
      project: { headQuarterId: '1', projectManager: 'Conducteur de travaux', projectColor: '#1e6fd9', countryCode: 'FR', currency: 'EUR' },
    },
    hours: { windowDays: 180, timezone: 'Europe/Paris' },
    schedule: { enabled: false },
    imports: { enabled: true, apiUrl: exportsApi.url, apiKey: 'cle-demo-exports', batigestImportPath: importDir, workDir: path.join(dataDir, 'imports'), importTimeoutSeconds: 60 },
  };
  say('  Licence : licence de démonstration (service en mémoire de la démo).');
  say(`  Base tampon intégrée : ${path.relative(root, path.join(dataDir, 'buffer'))}`);

  // The app as every entry point builds it (createApp + the default features), in .demo-data. Demo-only
  // licence: an in-process stand-in of this demo that always allows the sync.
  const openApp = async (): Promise<App> => {
    const a = await createNodeApp({
      dataDir,
      logger,
      host: 'headless',
      entry: 'demo',
      overrides: { licenceGuard: { assertSyncAllowed: async (): Promise<void> => undefined } },
      features: defaultFeatures({ licence: { checkAtStart: false }, sync: { schedule: false } }),
    });
    a.settings.update(settings);
    return a;
  };
  let app = await openApp();
  const itemsOf = async (runId: string) => (await app.services.buffers.get(app.settings.get().buffer)).listRunItems(runId);
  let code: 0 | 1;
  try {
    say('');
    say('1er passage — envoi des chantiers vers BatiSimply');
    let t = performance.now();
    const [push1] = await syncJob(app, 'push');
    printRun(push1!);
    const adopted = (await itemsOf(push1!.id)).filter((i) => i.action === 'adopted').length;
    say(`  dont ${countFr(adopted, 'projet déjà présent', 'projets déjà présents')} dans BatiSimply repris par leur code (aucun doublon créé)`);
    say(`  (${ms(t)} ; ${bs.log.count('POST /api/project')} POST, ${bs.log.count('PUT /api/project/{id}')} PUT)`);

    // Site workers record their hours in BatiSimply on the projects now there.
    const rand = rng(7);
    const projects = [...bs.state.projects.values()];
    const now = Date.now();
    const statuses = ['VALIDATED', 'VALIDATED', 'VALIDATED', 'VALIDATED', 'VALIDATED', 'VALIDATED', 'PENDING', 'SUBMITTED', 'REJECTED'];
    for (let i = 0; i < SLOTS; i++) {
      const u = users[Math.floor(rand() * users.length)]!;
      const p = projects[Math.floor(rand() * projects.length)]!;
      const day = new Date(now - (1 + Math.floor(rand() * 90)) * 86_400_000);
      day.setUTCHours(5 + Math.floor(rand() * 4), Math.floor(rand() * 4) * 15, 0, 0);
      bs.state.addSlot({
        startDate: day.toISOString(),
        userId: u.id,
        projectId: p.id,
        managementStatus: statuses[Math.floor(rand() * statuses.length)]!,
        totalTimeMinutes: 60 * (2 + Math.floor(rand() * 8)) + 15 * Math.floor(rand() * 4),
        hasPackedLunch: rand() < 0.6,
        hasHomeToWorkJourney: rand() < 0.5,
      });
    }
    say('');
    say(`1er passage — import des heures (${SLOTS} créneaux saisis dans BatiSimply sur les 90 derniers jours)`);
    t = performance.now();
    const [hours1] = await syncJob(app, 'hours');
    printRun(hours1!);
    const unmapped = (await itemsOf(hours1!.id)).filter((i) => i.record_key.startsWith('user:'));
    for (const i of unmapped.slice(0, 3)) say(`  • ${i.reason}`);
    say(`  (${ms(t)})`);

    say('');
    say(`1er passage — agent d'import : ${exportsApi.exports.size} exports (devis, bons de commande) de l'API d'export vers le dossier d'import de Batigest`);
    t = performance.now();
    const [imports1] = await syncJob(app, 'imports');
    printRun(imports1!);
    say(`  (${ms(t)} ; ${importer.consumed.size} fichiers pris par Batigest, ${[...exportsApi.exports.values()].filter((e) => e.status === 'synced').length} exports confirmés ; dossier de travail ${path.relative(root, path.join(dataDir, 'imports'))})`);

    // Second run, as the scheduler would do 5 minutes later, from a restarted app (same buffer on disk).
    await app.dispose();
    app = await openApp();
    const postBefore = bs.log.count('POST /api/project');
    const putBefore = bs.log.count('PUT /api/project/{id}');
    say('');
    say('2e passage — rien n’a changé de part et d’autre (programme redémarré, même base tampon)');
    t = performance.now();
    const second = await syncJob(app, 'all');
    for (const s of second) printRun(s);
    for (const s of await syncJob(app, 'imports')) printRun(s);
    const posts = bs.log.count('POST /api/project') - postBefore;
    const puts = bs.log.count('PUT /api/project/{id}') - putBefore;
    const hours2 = second.find((s) => s.flow === 'hours');
    const suivi = hours2?.counts.writes ?? 0;
    say(`  (${ms(t)} ; ${posts} POST, ${puts} PUT vers BatiSimply, ${countFr(suivi, 'écriture', 'écritures')} SuiviMO)`);
    say('');
    // The facts the verdict checks, read after the second run: BatiSimply's projects as they are now, and the
    // users the connector reported without a salarié, with their validated slots (as generated above).
    const codes = new Map<string, number>();
    for (const p of bs.state.projects.values()) codes.set(p.projectCode, (codes.get(p.projectCode) ?? 0) + 1);
    const waitingIds = hours2 ? (await itemsOf(hours2.id)).filter((i) => i.record_key.startsWith('user:')).map((i) => i.record_key.slice(5)) : [];
    const validated = [...bs.state.timeSlots.values()].filter((sl) => sl.managementStatus === 'VALIDATED');
    const verdict = demoVerdict({
      posts,
      puts,
      suiviMoWrites: suivi,
      duplicateCodes: [...codes].filter(([, n]) => n > 1).map(([c]) => c),
      runs: second.flatMap((s) => (s.flow === 'all' || s.flow === 'imports' ? [] : [{ flow: s.flow, status: s.status, failed: s.counts.failed, message: s.message ?? '' }])),
      waiting: waitingIds.map((id) => {
        const u = users.find((x) => x.id === id);
        return { name: u ? `${u.firstName} ${u.lastName}` : id, slots: validated.filter((sl) => sl.userId === id).length };
      }),
    });
    for (const line of verdict.lines) say(line);
    code = verdict.exitCode;
    say(`Projets dans BatiSimply : ${bs.state.projects.size}.`);
    say(`Journal : npx connecteur --data-dir ${path.relative(root, dataDir) || '.'} journal   ·   durée totale ${ms(t0)}`);
  } finally {
    await app.dispose();
    importer.stop();
    await exportsApi.close();
    await bs.close();
    await tds.close();
    await backend.close();
  }
  return code;
}

applyMemoryProfile();
main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`La démonstration a échoué : ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
