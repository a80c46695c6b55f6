import { describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import {
  BATIGEST_COLUMNS,
  batisimplyUsersFor,
  generateBatigestCompany,
  loadBatigestCompany,
  type BatigestCompanyOptions,
} from '../support/datasets/batigest.js';

const base: BatigestCompanyOptions = {
  seed: 'sarl-dupre',
  chantiers: 300,
  devis: 200,
  salaries: 40,
  suiviMo: 2000,
  variant: 'v1',
  withCodebs: true,
};

describe('Batigest dataset generator', () => {
  it('is deterministic from the seed and differs for another seed', () => {
    const a = generateBatigestCompany(base);
    const b = generateBatigestCompany(base);
    expect(b).toEqual(a);
    const c = generateBatigestCompany({ ...base, seed: 'autre' });
    expect(c.chantiers.map((x) => x.nomClient)).not.toEqual(a.chantiers.map((x) => x.nomClient));
  });

  it('produces unique, well-formed codes, Etat 0..5 and unique SuiviMO keys', () => {
    const d = generateBatigestCompany(base);
    expect(d.chantiers).toHaveLength(300);
    expect(new Set(d.chantiers.map((c) => c.code)).size).toBe(300);
    expect(new Set(d.devis.map((c) => c.code)).size).toBe(200);
    expect(new Set(d.salaries.map((c) => c.code)).size).toBe(40);
    for (const c of d.chantiers) expect(c.code).toMatch(/^(\d{8}|[A-Z]{3}\d{5})$/);
    expect(d.chantiers.some((c) => /^[A-Z]/.test(c.code))).toBe(true);
    expect(new Set(d.devis.map((x) => x.etat))).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    const keys = new Set(d.suiviMo.map((r) => `${r.codeChantier}|${r.codeSalarie}|${r.date}`));
    expect(keys.size).toBe(2000);
    const chCodes = new Set(d.chantiers.map((c) => c.code));
    expect(d.suiviMo.every((r) => chCodes.has(r.codeChantier))).toBe(true);
  });

  it('uses French names with accents and apostrophes', () => {
    const d = generateBatigestCompany(base);
    const all = [...d.salaries.map((s) => `${s.prenom} ${s.nom}`), ...d.chantiers.map((c) => c.nomClient)].join('|');
    expect(all).toMatch(/'/);
    expect(all).toMatch(/[éèêëïîôœç]/);
  });

  it('maps given BatiSimply user ids onto the first salariés and exposes matching users', () => {
    const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    const d = generateBatigestCompany({ ...base, batisimplyUserIds: ids });
    expect(d.salaries[0]?.codebs).toBe(ids[0]);
    expect(d.salaries[1]?.codebs).toBe(ids[1]);
    const users = batisimplyUsersFor(d);
    expect(users).toHaveLength(40);
    expect(users[0]).toMatchObject({ id: ids[0], salarieCode: d.salaries[0]?.code, mapped: true });
    const noCodebs = generateBatigestCompany({ ...base, withCodebs: false });
    expect(noCodebs.salaries.every((s) => s.codebs === null)).toBe(true);
  });

  it('loads both variants into PostgreSQL with exact column names and values', async () => {
    const pg = new PGlite();
    try {
      const backend = { adminExec: async (_db: string, sql: string) => void (await pg.exec(sql)) };
      for (const variant of ['v1', 'v2'] as const) {
        const d = generateBatigestCompany({ ...base, variant, withCodebs: variant === 'v1' });
        await loadBatigestCompany(backend, 'x', d);
        const cols = await pg.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'ChantierDef' ORDER BY ordinal_position`,
        );
        expect(cols.rows.map((r) => r.column_name)).toEqual(Object.values(BATIGEST_COLUMNS[variant].chantier));
        const sal = await pg.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'Salarie'`,
        );
        expect(sal.rows.some((r) => r.column_name === 'codebs')).toBe(variant === 'v1');
        const pk = await pg.query<{ c: string }>(
          `SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey, a.attnum)) AS c FROM pg_index i ` +
            `JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '"SuiviMO"'::regclass AND i.indisprimary`,
        );
        expect(pk.rows[0]?.c).toBe('CodeChantier,CodeSalarie,Date');
        const n = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM "SuiviMO"`);
        expect(n.rows[0]?.n).toBe(2000);
        const nom = BATIGEST_COLUMNS[variant].salarie.nom;
        const first = d.salaries[0];
        const row = await pg.query<Record<string, string>>(`SELECT * FROM "Salarie" WHERE "Code" = $1`, [first?.code]);
        expect(row.rows[0]?.[nom]).toBe(first?.nom);
      }
    } finally {
      await pg.close();
    }
  });
});
