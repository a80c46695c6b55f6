/** The sync layer's French: real plurals, the UI's names for screens and fields, one place for every sentence. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { count, hoursText, pushText } from '../../src/main/services/sync/journal-text.js';
import { emptyCounts } from '../../src/main/services/sync/model.js';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('sync journal text', () => {
  it('counts with French plurals: 0 and 1 singular, 2 and more plural, thousands grouped', () => {
    expect(count(0, 'créneau importé', 'créneaux importés')).toBe('0 créneau importé');
    expect(count(1, 'créneau importé', 'créneaux importés')).toBe('1 créneau importé');
    expect(count(3, 'créneau importé', 'créneaux importés')).toBe('3 créneaux importés');
    expect(count(12500, 'créneau importé', 'créneaux importés')).toBe('12\u202f500 créneaux importés');
  });

  it('run messages of both flows', () => {
    expect(pushText.summary({ ...emptyCounts(), created: 1, updated: 2, unchanged: 3, skipped: 1, conflicts: 2 })).toBe('Envoi vers BatiSimply : 1 créé, 2 mis à jour, 3 inchangés, 1 ignoré, 0 en erreur, 2 conflits.');
    expect(hoursText.summary({ ...emptyCounts(), created: 3, updated: 1, writes: 1 })).toBe('Import des heures : 3 créneaux importés, 1 modifié, 0 inchangé, 0 ignoré, 0 en erreur, 1 écriture SuiviMO.');
    expect(hoursText.note({ rejectedSlots: 2, unmappedSlots: 0, unmappedUsers: 0, unknownSlots: 0, unknownChantiers: 0, pendingMinutes: 0 }, 'Codial')).toBe(' 2 créneaux impossibles ou illisibles non importés (à corriger dans BatiSimply).');
    expect(pushText.note({ noCode: 1, noName: 2 }, 'Codial')).toBe(' 3 lignes de Codial ignorées : 1 sans code, 2 sans nom ni client (détail dans le journal).');
    expect(hoursText.note({ rejectedSlots: 0, unmappedSlots: 3, unmappedUsers: 2, unknownSlots: 1, unknownChantiers: 1, pendingMinutes: 90 }, 'Sage Batigest')).toBe(
      " 1,5 h validée en attente, non écrite dans Sage Batigest : 3 créneaux de 2 utilisateurs BatiSimply sans salarié Sage Batigest (à associer dans « Correspondance des salariés ») ; 1 créneau sur un chantier inconnu de Sage Batigest (code à vérifier). Elle sera importée au prochain passage une fois corrigé.",
    );
  });

  it('names the settings screens as the UI does', () => {
    expect(pushText.modeUnknown).toBe('Mode de synchronisation inconnu : choisissez « Les chantiers » ou « Les devis » dans Réglages › Options de synchronisation › Ce qui est envoyé à BatiSimply.');
    expect(hoursText.timezoneUnknown('Mars/Olympus')).toBe('Fuseau horaire « Mars/Olympus » inconnu : corrigez-le dans Réglages › Options de synchronisation › Fuseau horaire des heures (par exemple Europe/Paris).');
  });

  it('no other file of the sync layer writes French sentences, and none writes « (s) » or « (x) » plurals', () => {
    const dir = 'src/main/services/sync';
    // String literals outside comments; a French sentence has a space and an accented letter.
    const literals = (f: string): string[] =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l))
        .flatMap((l) => l.match(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g) ?? []);
    const offenders = files(dir)
      .filter((f) => !f.endsWith('journal-text.ts') && !f.endsWith('retry.ts'))
      .flatMap((f) => literals(f).filter((t) => / /.test(t) && /[éèêàçù]/.test(t)).map((t) => `${f}: ${t}`));
    expect(offenders).toEqual([]);
    const parenPlurals = files(dir).flatMap((f) => literals(f).filter((t) => /\p{L}\((s|x|e|es)\)/u.test(t)).map((t) => `${f}: ${t}`));
    expect(parenPlurals).toEqual([]);
  });
});
