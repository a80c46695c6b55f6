/**
 * A chantier's whole life through the push flow (issue 18), against the simulators (real gateway over TDS, real
 * client over HTTP), in both Batigest column variants: scope (open + ended within N months), closing/reopening
 * (isFinished, isArchived after a delay), sold hours from the chantier's accepted devis, deletion in Batigest
 * (reported, by setting finished/archived, never deleted), project name source.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateBatigestCompany, pgLiteral, type BatigestCompany, type BatigestVariant, type GenChantier } from '../support/datasets/batigest.js';
import { simHarness, testSettings, type Harness } from '../support/sync/harness.js';
import type { Settings } from '../../src/shared/settings.js';
import { BatigestGateway } from '../../src/main/services/batigest/gateway.js';
import { previewChantiers } from '../../src/main/services/sync/chantier-preview.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { BATIGEST_COLUMNS } from '../support/datasets/batigest.js';

const TODAY = '2026-07-15'; // the harness clock (NOW)
const SCOPE_FROM = '2024-07-15'; // 24 months before

function company(variant: BatigestVariant): BatigestCompany {
  return generateBatigestCompany({ seed: `life-${variant}`, chantiers: 220, devis: 660, salaries: 2, suiviMo: 0, variant, withCodebs: true, historyYears: 15, today: TODAY });
}

/** Written independently of the connector's rules: E/A open; T/C in scope when they ended in the last 24 months. */
function expectedInScope(c: GenChantier): boolean {
  if (c.etat === 'E' || c.etat === 'A') return true;
  if (c.etat === 'P') return false;
  const end = c.dateFin ?? c.dateModif.slice(0, 10);
  return end >= SCOPE_FROM;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

describe.each(['v1', 'v2'] as const)('chantier life (%s)', (variant) => {
  let h!: Harness;
  let settingsPatch: (s: Settings) => void = () => undefined;
  beforeAll(async () => {
    h = await simHarness(() => company(variant), () => testSettings((s) => settingsPatch(s)));
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    settingsPatch = () => undefined;
    await h.reset();
  });

  const items = async (runId: string) => h.buffer.listRunItems(runId);
  const chantierDef = (code: string, set: string) => h.adminExec!(`UPDATE "ChantierDef" SET ${set} WHERE "Code" = ${pgLiteral(code)}`);
  const etatCol = 'Etat';
  const finCol = 'DateFin';

  it('sends only the scope, then a chantier entering the scope; one leaving it stays in BatiSimply', async () => {
    const inScope = h.company.chantiers.filter(expectedInScope);
    const out = h.company.chantiers.filter((c) => !expectedInScope(c));
    expect(inScope.length).toBeGreaterThan(5);
    expect(out.length).toBeGreaterThan(inScope.length); // 15 years: most of the history is out of scope
    const [r] = await h.engine().run('push');
    expect(r).toMatchObject({ status: 'succeeded', counts: { created: inScope.length, failed: 0 } });
    expect(h.state.projects.size).toBe(inScope.length);
    for (const c of out) expect(h.projectsByCode(c.code)).toHaveLength(0);
    expect(r!.message).toMatch(new RegExp(`${out.length} chantiers hors périmètre non envoyés`));

    // an old closed chantier reopened in Batigest: it enters the scope and is sent now
    const old = out.find((c) => c.etat === 'C')!;
    await chantierDef(old.code, `"${etatCol}" = 'E'`);
    const [r2] = await h.engine().run('push');
    expect(r2!.counts).toMatchObject({ created: 1, updated: 0 });
    expect(h.projectsByCode(old.code)).toHaveLength(1);

    // it leaves the scope again (closed long ago): not deleted in BatiSimply, marked finished and archived
    await chantierDef(old.code, `"${etatCol}" = 'C', "${finCol}" = '2012-03-01'`);
    const [r3] = await h.engine().run('push');
    expect(r3!.counts).toMatchObject({ created: 0, updated: 1 });
    expect(h.state.findProjectByCode(old.code)).toMatchObject({ isFinished: true, isArchived: true });
    expect(h.state.projects.size).toBe(inScope.length + 1);
  });

  it('marks a chantier finished then archived after the delay, and reopens it; phones stop showing it', async () => {
    settingsPatch = (s) => void (s.chantiers.archiveAfterDays = 60);
    await h.reset();
    await h.engine().run('push');
    const open = h.company.chantiers.find((c) => c.etat === 'E' && c.description)!;
    expect(h.state.projectsOnPhones().some((p) => p.projectCode === open.code)).toBe(true);

    await chantierDef(open.code, `"${etatCol}" = 'T', "${finCol}" = '2026-07-10'`);
    h.resetWrites();
    const [r1] = await h.engine().run('push');
    expect(r1!.counts).toMatchObject({ updated: 1, created: 0 });
    expect(await h.writes()).toMatchObject({ bsPost: 0, bsPut: 1 });
    expect(h.state.findProjectByCode(open.code)).toMatchObject({ isFinished: true, isArchived: false });
    expect(h.state.projectsOnPhones().some((p) => p.projectCode === open.code)).toBe(false);
    expect((await items(r1!.runId)).map((i) => i.reason)).toContain(`${open.description} (${open.code}) terminé dans Sage Batigest : marqué terminé dans BatiSimply.`);

    // nothing changed: no write; 60 days after its end: archived by the normal update
    const [same] = await h.engine().run('push');
    expect(same!.counts).toMatchObject({ updated: 0, writes: 0 });
    h.clock.set(new Date('2026-09-10T12:00:00Z'));
    const [r2] = await h.engine().run('push');
    expect(r2!.counts.updated).toBeGreaterThanOrEqual(1);
    expect(h.state.findProjectByCode(open.code)).toMatchObject({ isFinished: true, isArchived: true });
    expect((await items(r2!.runId)).some((i) => i.reason?.includes(`(${open.code}) terminé dans Sage Batigest depuis le délai d'archivage : archivé`))).toBe(true);

    await chantierDef(open.code, `"${etatCol}" = 'E', "${finCol}" = NULL`);
    const [r3] = await h.engine().run('push');
    expect(h.state.findProjectByCode(open.code)).toMatchObject({ isFinished: false, isArchived: false });
    expect((await items(r3!.runId)).map((i) => i.reason)).toContain(`${open.description} (${open.code}) rouvert dans Sage Batigest : rouvert dans BatiSimply.`);
    expect(h.projectsByCode(open.code)).toHaveLength(1);
  });

  it('takes sold hours from the accepted devis of each chantier; a devis accepted later updates the project', async () => {
    settingsPatch = (s) => void (s.chantiers.hoursSource = 'devis');
    await h.reset();
    const accepted = [0, 3, 4];
    const expected = (code: string, devis = h.company.devis): number | null => {
      const mine = devis.filter((d) => d.chantier === code && accepted.includes(d.etat));
      return mine.length === 0 ? null : round2(mine.reduce((a, d) => a + (d.tempsMO ?? 0), 0));
    };
    expect(h.company.devis.some((d) => d.chantier === null)).toBe(true);
    const [r] = await h.engine().run('push');
    expect(r!.counts.failed).toBe(0);
    const sent = h.company.chantiers.filter(expectedInScope);
    let withDevis = 0;
    for (const c of sent) {
      const want = expected(c.code);
      if (want !== null) withDevis++;
      expect(h.state.findProjectByCode(c.code)?.hoursSold ?? null).toBe(want);
    }
    expect(withDevis).toBeGreaterThan(3);

    // a refused devis (state 1, 2 or 5) of a sent chantier becomes accepted
    const later = h.company.devis.find((d) => d.chantier !== null && !accepted.includes(d.etat) && (d.tempsMO ?? 0) > 0 && sent.some((c) => c.code === d.chantier))!;
    expect(later).toBeDefined();
    const before = h.state.findProjectByCode(later.chantier!)?.hoursSold ?? 0;
    await h.adminExec!(`UPDATE "Devis" SET "Etat" = 3 WHERE "Code" = ${pgLiteral(later.code)}`);
    h.resetWrites();
    const [r2] = await h.engine().run('push');
    expect(r2!.counts).toMatchObject({ updated: 1, created: 0 });
    expect(await h.writes()).toMatchObject({ bsPut: 1, bsPost: 0 });
    expect(h.state.findProjectByCode(later.chantier!)?.hoursSold).toBe(round2(before + later.tempsMO!));
    expect((await items(r2!.runId)).some((i) => i.reason?.startsWith(`Heures vendues du chantier ${later.chantier} d'après ses devis acceptés`))).toBe(true);
  });

  it('reports a chantier deleted in Batigest once, and by setting marks it finished and archived, never deletes it', async () => {
    await h.engine().run('push');
    const [a, b] = h.company.chantiers.filter((c) => c.etat === 'E');
    await h.adminExec!(`DELETE FROM "ChantierDef" WHERE "Code" = ${pgLiteral(a!.code)}`);
    const [r1] = await h.engine().run('push');
    const all = await items(r1!.runId);
    const lines = all.filter((i) => i.record_key === `chantier:${a!.code}`);
    expect(lines).toEqual([expect.objectContaining({ action: 'reported', reason: expect.stringMatching(/supprimé dans Sage Batigest : le projet reste dans BatiSimply, inchangé/) })]);
    expect(h.state.findProjectByCode(a!.code)).toMatchObject({ isFinished: false });
    const [again] = await h.engine().run('push');
    expect((await items(again!.runId)).filter((i) => i.record_key === `chantier:${a!.code}`)).toHaveLength(0);

    h.settings.chantiers.deleted = 'archive';
    await h.adminExec!(`DROP TABLE IF EXISTS "kept_row"`);
    await h.adminExec!(`CREATE TABLE "kept_row" AS SELECT * FROM "ChantierDef" WHERE "Code" = ${pgLiteral(b!.code)}`);
    await h.adminExec!(`DELETE FROM "ChantierDef" WHERE "Code" = ${pgLiteral(b!.code)}`);
    const [r2] = await h.engine().run('push');
    expect(h.state.findProjectByCode(b!.code)).toMatchObject({ isFinished: true, isArchived: true });
    expect((await items(r2!.runId)).find((i) => i.record_key === `chantier:${b!.code}`)?.reason).toMatch(/marqué terminé et archivé dans BatiSimply, jamais supprimé/);
    expect(h.projectsByCode(a!.code)).toHaveLength(1);
    expect(h.projectsByCode(b!.code)).toHaveLength(1);

    // b is back in Batigest (restored): journaled, and its project reopened by the normal update, no duplicate
    await h.adminExec!(`INSERT INTO "ChantierDef" SELECT * FROM "kept_row"`);
    const [r3] = await h.engine().run('push');
    expect((await items(r3!.runId)).map((i) => i.reason)).toContain(`Chantier ${b!.code} de nouveau présent dans Sage Batigest : il est suivi comme avant.`);
    expect(r3!.counts).toMatchObject({ created: 0, updated: 1 });
    expect(h.state.findProjectByCode(b!.code)).toMatchObject({ isFinished: false, isArchived: false });
    expect(h.projectsByCode(b!.code)).toHaveLength(1);
  });

  it('a ChantierDef emptied at once (another database, a restore) is not taken for deletions: nothing archived', async () => {
    await h.engine().run('push');
    const n = h.state.projects.size;
    h.settings.chantiers.deleted = 'archive';
    await h.adminExec!(`DELETE FROM "ChantierDef"`);
    h.resetWrites();
    const [r] = await h.engine().run('push');
    expect(await h.writes()).toMatchObject({ bsPost: 0, bsPut: 0 });
    expect([...h.state.projects.values()].filter((p) => p.isArchived || p.isFinished).length).toBe(
      h.company.chantiers.filter((c) => expectedInScope(c) && (c.etat === 'T' || c.etat === 'C')).length,
    );
    expect(h.state.projects.size).toBe(n);
    const line = (await items(r!.runId)).find((i) => i.record_key === 'chantier:*');
    expect(line?.reason).toMatch(new RegExp(`^${n} chantiers envoyés à BatiSimply sont absents de Sage Batigest sur ${n} chantiers suivis : .* Rien n'est marqué ni modifié dans BatiSimply`));
  });

  it('changes the project names once when the name source changes, without duplicates', async () => {
    await h.engine().run('push');
    const n = h.state.projects.size;
    h.settings.chantiers.nameSource = 'codeLibelle';
    h.resetWrites();
    const [r] = await h.engine().run('push');
    expect(r!.counts).toMatchObject({ created: 0, updated: n, failed: 0 });
    expect(await h.writes()).toMatchObject({ bsPost: 0, bsPut: n });
    expect(h.state.projects.size).toBe(n);
    const c = h.company.chantiers.find((x) => expectedInScope(x) && x.description)!;
    expect(h.state.findProjectByCode(c.code)?.projectName).toBe(`${c.code} — ${c.description}`);
    h.resetWrites();
    const [again] = await h.engine().run('push');
    expect(again!.counts).toMatchObject({ updated: 0, unchanged: n });
    expect(await h.writes()).toMatchObject({ bsPost: 0, bsPut: 0 });
  });

  it('previews before the first run: chantiers in scope, Etat values with counts, each source of sold hours, name examples', async () => {
    const g = new BatigestGateway({ settings: h.settings.sqlServer, logger: memoryLogger() });
    try {
      const p = await previewChantiers(g, h.settings.chantiers, h.clock.now());
      const all = h.company.chantiers;
      expect(p.total).toBe(all.length);
      expect(p.inScope).toBe(all.filter(expectedInScope).length);
      const counts = new Map<string, number>();
      for (const c of all) counts.set(c.etat, (counts.get(c.etat) ?? 0) + 1);
      expect(Object.fromEntries(p.etats.map((e) => [e.value, e.count]))).toEqual(Object.fromEntries(counts));
      expect(Object.fromEntries(p.etats.map((e) => [e.value, e.detected]))).toMatchObject({ E: 'open', T: 'finished', C: 'closed', P: 'ignored' });
      expect(p.devisLink).toMatchObject({ detected: BATIGEST_COLUMNS[variant].devis.chantier, effective: BATIGEST_COLUMNS[variant].devis.chantier });
      expect(p.devisHoursError).toBeNull();
      expect(p.samples.length).toBeGreaterThan(0);
      for (const x of p.samples) {
        const c = all.find((y) => y.code === x.code)!;
        expect(x.fromChantier).toBe(c.heuresVendues);
        const mine = h.company.devis.filter((d) => d.chantier === x.code && [0, 3, 4].includes(d.etat));
        expect(x.fromDevis).toBe(mine.length === 0 ? null : round2(mine.reduce((a, d) => a + (d.tempsMO ?? 0), 0)));
      }
      expect(p.nameExamples.codeLibelle).toMatch(/^\S+ — /);

      // the integrator says 'P' means open and widens the scope: the preview follows, nothing is written
      const wider = await previewChantiers(g, { ...h.settings.chantiers, etatRoles: { P: 'open' }, scopeMonths: 600 }, h.clock.now());
      expect(wider.inScope).toBe(all.length);
      expect(wider.etats.find((e) => e.value === 'P')).toMatchObject({ detected: 'ignored', role: 'open' });
    } finally {
      await g.close();
    }
    // the integrator chooses another devis column (here the client's name): the preview and the push use it
    const other = BATIGEST_COLUMNS[variant].devis.nom;
    const g2 = new BatigestGateway({ settings: { ...h.settings.sqlServer, columnOverrides: { chantier: {}, devis: { chantier: other }, salarie: {} } }, logger: memoryLogger() });
    try {
      const p2 = await previewChantiers(g2, h.settings.chantiers, h.clock.now());
      expect(p2.devisLink).toMatchObject({ detected: BATIGEST_COLUMNS[variant].devis.chantier, effective: other });
      expect(p2.samples.every((x) => x.fromDevis === null)).toBe(true);
    } finally {
      await g2.close();
    }
    // a devis table without any chantier column: the preview says why, in French
    await h.adminExec!(`ALTER TABLE "Devis" DROP COLUMN "${BATIGEST_COLUMNS[variant].devis.chantier}"`);
    const g3 = new BatigestGateway({ settings: h.settings.sqlServer, logger: memoryLogger() });
    try {
      const p3 = await previewChantiers(g3, h.settings.chantiers, h.clock.now());
      expect(p3.devisLink.effective).toBeNull();
      expect(p3.devisHoursError).toMatch(/Réglages › Chantiers › Heures vendues/);
    } finally {
      await g3.close();
    }
    // and a push asked to take the hours from the devis stops before sending anything, saying why
    h.settings.chantiers.hoursSource = 'devis';
    const [r] = await h.engine().run('push');
    expect(r).toMatchObject({ status: 'failed', errorCode: 'SQL_COLUMN_MISSING', counts: { created: 0 } });
    // (the harness gateway detected the columns before the drop: it names the missing column its own way)
    expect(r!.message).toMatch(/colonne .*absente|colonne reliant un devis à son chantier/);
    expect(h.state.projects.size).toBe(0);
  });
});
