/**
 * The French of the screens (issue 21): one apostrophe style and non-breaking spaces before « : ; ! ? % » and the
 * hour unit in every string of strings.fr.ts, real plurals; every « Réglages › Section › Champ » written anywhere in
 * src names a section and a field that exist on screen; the search ignores accents and case; a field's message
 * goes once the field is edited; journal references and reasons for people; BatiSimply's reason kept.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fr } from '../../../src/shared/strings.fr.js';
import { SOFTWARE_LABELS } from '../../../src/shared/settings.js';
import { foldForSearch, matchesSearch } from '../../../src/shared/text-search.js';
import { clearEdited } from '../../../src/renderer/lib/drafts.js';
import { itemReference, reasonParts } from '../../../src/renderer/lib/journal-text.js';
import { settingLabel } from '../../../src/main/services/settings/labels.js';
import { serverReason } from '../../../src/main/services/batisimply/client.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');

/** Every text of `fr`: strings, and what each function returns for numbers and for words. */
function allTexts(node: unknown, where: string, out: { where: string; text: string }[] = []): { where: string; text: string }[] {
  if (typeof node === 'string') out.push({ where, text: node });
  else if (typeof node === 'function') {
    const fn = node as (...a: unknown[]) => unknown;
    for (const arg of [2, 1, 'Sage Batigest', '7,5']) {
      try {
        const r = fn(...Array.from({ length: Math.max(1, fn.length) }, () => arg));
        if (typeof r === 'string') out.push({ where: `${where}(${String(arg)})`, text: r });
      } catch {
        // a function that needs other arguments: its other calls are checked
      }
    }
  } else if (Array.isArray(node)) node.forEach((x, i) => allTexts(x, `${where}[${i}]`, out));
  else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) allTexts(v, where ? `${where}.${k}` : k, out);
  return out;
}

describe('typography of strings.fr.ts', () => {
  const texts = allTexts(fr, '');
  it('reads every text (strings and functions)', () => {
    expect(texts.length).toBeGreaterThan(400);
  });
  it('one apostrophe style: ’ (never a straight quote inside a word)', () => {
    expect(texts.filter((t) => /\p{L}'\p{L}/u.test(t.text)).map((t) => `${t.where}: ${t.text}`)).toEqual([]);
  });
  it('a non-breaking space (never a plain one, never none) before « : ; ! ? % »', () => {
    const bad = texts.filter((t) => / [:;!?%]|[\p{L}\d)»][:;!?](?=\s|$)/u.test(t.text.replace(/https?:\/\//g, '')));
    expect(bad.map((t) => `${t.where}: ${t.text}`)).toEqual([]);
  });
  it('a non-breaking space between a figure and « h »: « 23,5 h »', () => {
    expect(texts.filter((t) => /\d( |)h\b/.test(t.text)).map((t) => `${t.where}: ${t.text}`)).toEqual([]);
    expect(fr.common.hours('23,5')).toBe('23,5\u00a0h');
    expect(fr.mapping.waitingHours('7,5', 2)).toBe('7,5\u00a0h en attente (2 créneaux)');
  });
  it('real plurals, never « (s) » or « (x) »', () => {
    expect(texts.filter((t) => /\((s|x|es)\)/.test(t.text)).map((t) => t.where)).toEqual([]);
    expect(fr.mapping.leaveConfirm(1)).toBe('1 correspondance modifiée n’est pas enregistrée. Quitter la page sans les enregistrer\u00a0?');
    expect(fr.mapping.leaveConfirm(3)).toBe('3 correspondances modifiées ne sont pas enregistrées. Quitter la page sans les enregistrer\u00a0?');
  });
});

// ------------------------------------------------------------------------------ « Réglages › X › Y »

/** The cards of the Réglages page (src/renderer/pages/settings.tsx and settings-tools.tsx). */
const SECTIONS = new Set<string>([
  fr.sql.title(SOFTWARE_LABELS.batigest),
  fr.sql.title(SOFTWARE_LABELS.codial),
  fr.buffer.title,
  fr.batisimply.title,
  fr.options.title,
  fr.schedule.title,
  fr.settings.general,
  fr.updates.title,
  fr.protection.title,
  fr.maintenance.title,
  fr.support.title,
  fr.imports.settingsTitle,
  fr.imports.networkTitle,
  fr.chantiers.title,
  fr.machines.title,
  fr.configShare.title,
]);
/** What a section shows: every label of strings.fr.ts, and « Avancé ». */
const LABELS = new Set<string>([...allTexts(fr, '').map((t) => t.text), fr.common.advanced]);
const startsWithLabel = (token: string, labels: ReadonlySet<string>): boolean =>
  [...labels].some((l) => l !== '' && token.startsWith(l) && !/^[\p{L}\d]/u.test(token.slice(l.length)));

/** Why a « Réglages › … » reference is wrong (null: it names real places). */
export function badReference(ref: string): string | null {
  const tokens = ref.split(' › ').map((t) => t.trim());
  const [section, ...fields] = tokens;
  if (!section || section.startsWith('${')) return null;
  if (!startsWithLabel(section, SECTIONS)) return `no section « ${section} »`;
  if (fields.length > 0 && !SECTIONS.has(section)) return `section « ${section} » followed by a field`;
  for (const [i, f] of fields.entries()) {
    if (f.startsWith('${')) continue;
    const last = i === fields.length - 1;
    if (last ? !startsWithLabel(f, LABELS) : !LABELS.has(f)) return `no field « ${f} » in « ${section} »`;
  }
  return null;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

describe('every « Réglages › Section › Champ » names a real screen and field', () => {
  it('the checker refuses wrong places', () => {
    expect(badReference('Compte BatiSimply › Secret client')).toBeNull();
    expect(badReference('Options de synchronisation › Avancé › Correspondance des colonnes.')).toBeNull();
    expect(badReference('SQL Server › Colonnes')).toMatch(/no section/);
    expect(badReference('Compte BatiSimply › client secret')).toMatch(/no field/);
    expect(badReference('Base tampon › Délai des requêtes')).toMatch(/no field/);
  });

  it('in every source file of src (messages of the services included)', () => {
    const bad: string[] = [];
    let seen = 0;
    for (const file of sourceFiles(path.join(ROOT, 'src'))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/Réglages › ([^«»"'`\n]*)/g)) {
        seen++;
        const why = badReference(m[1] ?? '');
        if (why) bad.push(`${path.relative(ROOT, file)}: « ${m[0]} »: ${why}`);
      }
    }
    expect(seen).toBeGreaterThan(10);
    expect(bad).toEqual([]);
  });

  it('in every label settingLabel() gives to a setting', () => {
    const paths = ['sqlServer.server', 'sqlServer.database', 'sqlServer.user', 'sqlServer.password', 'buffer.remote.port', 'batisimply.clientId', 'batisimply.clientSecret', 'batisimply.environment', 'batisimply.ssoUrl', 'hours.timezone', 'hours.removeUnvalidated', 'schedule.intervalSeconds', 'updates.feedUrl', 'machineName'];
    for (const p of paths) {
      const label = settingLabel(p);
      expect(label.startsWith('Réglages › '), label).toBe(true);
      expect(badReference(label.slice('Réglages › '.length)), label).toBeNull();
    }
    expect(settingLabel('batisimply.clientSecret')).toBe('Réglages › Compte BatiSimply › Secret client');
    expect(settingLabel('batisimply.environment')).toBe('Réglages › Compte BatiSimply › Avancé › Environnement');
    expect(settingLabel('sqlServer.database', 'codial')).toBe('Réglages › Base Codial (SQL Server) › Base de données Codial');
  });

  it('no message sends the user to places that do not exist', () => {
    const wrong = /paramètres \(onglet|[Pp]aramètres ›|dans les paramètres|client ID|« client secret »|délai des requêtes/;
    const found = sourceFiles(path.join(ROOT, 'src')).filter((f) => wrong.test(fs.readFileSync(f, 'utf8')));
    expect(found.map((f) => path.relative(ROOT, f))).toEqual([]);
  });
});

describe('search, field messages, journal and server reasons', () => {
  it('the search ignores case and accents: « lev » finds « Lévêque »', () => {
    expect(matchesSearch('SAL07 Lévêque Hélène', 'lev')).toBe(true);
    expect(matchesSearch('SAL07 Lévêque Hélène', 'LÉV')).toBe(true);
    expect(matchesSearch('SAL07 Lévêque Hélène', 'helene lev')).toBe(true);
    expect(matchesSearch('Bœuf Zoé', 'boeuf')).toBe(true);
    expect(matchesSearch('SAL07 Lévêque Hélène', 'martin')).toBe(false);
    expect(matchesSearch('anything', '  ')).toBe(true);
    expect(foldForSearch('  Çelik   Müller ')).toBe('celik muller');
  });

  it('a field’s message goes once the field is edited; the others stay', () => {
    const errors = { server: 'Ce champ est obligatoire.', database: 'Ce champ est obligatoire.' };
    const before = { server: '', database: '', user: 'x' };
    expect(clearEdited(errors, before, { ...before, server: 'srv' })).toEqual({ database: 'Ce champ est obligatoire.' });
    expect(clearEdited(errors, before, { ...before, user: 'y' })).toBe(errors);
    expect(clearEdited({}, before, { ...before, server: 'srv' })).toEqual({});
  });

  it('journal references a person knows, never a UUID or a raw key', () => {
    const uuid = '3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8';
    expect(itemReference({ kind: 'chantier', key: '00000101', label: 'Rénovation école' }).text).toBe('Chantier 00000101');
    expect(itemReference({ kind: 'timeslot', key: 'not-validated', label: null }).text).toBe('Créneaux non validés');
    expect(itemReference({ kind: 'timeslot', key: '00000101/SAL01/2026-07-02', label: null }).text).toBe('Chantier 00000101, salarié SAL01, le 02/07/2026');
    const slot = itemReference({ kind: 'timeslot', key: uuid, label: null });
    expect(slot.text).toBe('Créneau BatiSimply');
    expect(slot.technical).toBe(uuid);
    expect(itemReference({ kind: 'salarie', key: uuid, label: 'Julie Martin' }).text).toBe('Julie Martin');
    expect(itemReference({ kind: 'timeslot', key: 'illisible-2', label: null }).text).toBe('Créneau illisible n°\u00a02');
  });

  it('journal reasons: days in French, no UUID, the screen that fixes it as a link', () => {
    const parts = reasonParts(
      "Aucun salarié Sage Batigest pour l'utilisateur BatiSimply 3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8 : 2 créneaux non importés. Associez-le à un salarié dans « Correspondance des salariés » ; ses heures du 2026-07-02 seront importées.",
    );
    const text = parts.map((p) => (typeof p === 'string' ? p : p.text)).join('');
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}/);
    expect(text).toContain('du 02/07/2026');
    expect(parts).toContainEqual({ text: 'Correspondance des salariés', href: '#/mapping' });
    expect(reasonParts('Rien à corriger.')).toEqual(['Rien à corriger.']);
  });

  it('BatiSimply’s own reason is kept, cleaned and bounded', () => {
    expect(serverReason([undefined, 'projectName invalide', 'Bad Request'])).toBe('projectName invalide');
    expect(serverReason(['', 'a\u0000b\nc'])).toBe('ab c');
    expect(serverReason(['x'.repeat(500)])).toHaveLength(200);
    expect(serverReason([undefined])).toBe('');
  });
});
