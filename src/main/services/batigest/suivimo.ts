/**
 * SuiviMO batch planning and SQL text (pure; executed by the gateway).
 *
 * A batch of ops is first reduced to its final effect per key (later ops win: an upsert then a delete of the
 * same key is a delete; a move deletes its old key and writes its new one). Then it is written with a bounded
 * number of statements: per chunk of keys one DELETE, per chunk of rows one UPDATE + one INSERT sent together,
 * each chunk using a multi-row VALUES derived table (no round trip per row, ≤ 2,100 parameters per request).
 */
import { z } from 'zod';
import { AppError } from '../../../shared/errors.js';
import { suiviMoKeySchema, suiviMoRowSchema, type SuiviMoKey, type SuiviMoOp, type SuiviMoRow } from '../../../shared/domain.js';
import { quoteIdent } from './columns.js';

const keyShape = suiviMoKeySchema.extend({
  codeChantier: z.string().trim().min(1).max(32),
  codeSalarie: z.string().trim().min(1).max(32),
});
const rowShape = suiviMoRowSchema.extend({
  codeChantier: z.string().trim().min(1).max(32),
  codeSalarie: z.string().trim().min(1).max(32),
  nbH0: z.number().finite().min(0).max(1000),
});
export const suiviMoOpSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('upsert'), row: rowShape }),
  z.object({ kind: z.literal('move'), from: keyShape, row: rowShape }),
  z.object({ kind: z.literal('delete'), key: keyShape }),
]);

export function keyString(k: SuiviMoKey): string {
  return `${k.codeChantier}\u0000${k.codeSalarie}\u0000${k.date}`;
}

export interface SuiviMoPlan {
  deletes: SuiviMoKey[];
  upserts: SuiviMoRow[];
}

/**
 * `fold`: how the database compares the codes (collationKey of the SuiviMO columns): keys equal under it are one
 * row in SQL Server, so they are one key here too (the last op wins, with its spelling).
 */
export function planSuiviMo(ops: readonly SuiviMoOp[], fold: (s: string) => string = (s) => s): SuiviMoPlan {
  const final = new Map<string, { key: SuiviMoKey; row: SuiviMoRow | null }>();
  const folded = (k: SuiviMoKey): string => `${fold(k.codeChantier)}\u0000${fold(k.codeSalarie)}\u0000${k.date}`;
  ops.forEach((raw, i) => {
    const parsed = suiviMoOpSchema.safeParse(raw);
    if (!parsed.success) {
      throw new AppError('INVALID_INPUT', "Une ligne d'heures à écrire dans Batigest est invalide : rien n'a été écrit.", {
        detail: `op #${i}: ${parsed.error.message}`,
      });
    }
    const op = parsed.data;
    const keyOf = (k: SuiviMoKey): SuiviMoKey => ({ codeChantier: k.codeChantier, codeSalarie: k.codeSalarie, date: k.date });
    if (op.kind === 'delete') {
      final.set(folded(op.key), { key: keyOf(op.key), row: null });
    } else {
      if (op.kind === 'move') {
        const from = keyOf(op.from);
        if (folded(from) !== folded(op.row)) final.set(folded(from), { key: from, row: null });
      }
      final.set(folded(op.row), { key: keyOf(op.row), row: { ...op.row, nbH0: Math.round(op.row.nbH0 * 10_000) / 10_000 } });
    }
  });
  const deletes: SuiviMoKey[] = [];
  const upserts: SuiviMoRow[] = [];
  for (const { key, row } of final.values()) {
    if (row === null) deletes.push(key);
    else upserts.push(row);
  }
  return { deletes, upserts };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Parameter descriptor: the gateway maps kinds to mssql types. */
export interface SqlParam {
  name: string;
  kind: 'nvarchar' | 'date' | 'decimal' | 'int';
  value: string | number | Date | null;
}

export interface SqlText {
  sql: string;
  params: SqlParam[];
  /** Number of statements in `sql` (for the statement counter). */
  statements: number;
}

const T = `[dbo].${quoteIdent('SuiviMO')}`;
const C = {
  ch: quoteIdent('CodeChantier'),
  sa: quoteIdent('CodeSalarie'),
  date: quoteIdent('Date'),
  h0: quoteIdent('NbH0'),
  h3: quoteIdent('NbH3'),
  h4: quoteIdent('NbH4'),
};
const KEY_ALIAS = `v(${C.ch}, ${C.sa}, ${C.date})`;
const ROW_ALIAS = `v(${C.ch}, ${C.sa}, ${C.date}, ${C.h0}, ${C.h3}, ${C.h4})`;

export function utcDate(ymd: string): Date {
  const [y, m, d] = ymd.split('-').map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1));
}

function keyValues(keys: readonly SuiviMoKey[], params: SqlParam[]): string {
  return keys
    .map((k) => {
      const i = params.length;
      params.push({ name: `p${i}`, kind: 'nvarchar', value: k.codeChantier });
      params.push({ name: `p${i + 1}`, kind: 'nvarchar', value: k.codeSalarie });
      params.push({ name: `p${i + 2}`, kind: 'date', value: utcDate(k.date) });
      return `(@p${i}, @p${i + 1}, CAST(@p${i + 2} AS date))`;
    })
    .join(', ');
}

const matchOn = (a: string, b: string) => `${a}.${C.ch} = ${b}.${C.ch} AND ${a}.${C.sa} = ${b}.${C.sa} AND ${a}.${C.date} = ${b}.${C.date}`;

export function deleteSql(keys: readonly SuiviMoKey[]): SqlText {
  const params: SqlParam[] = [];
  const values = keyValues(keys, params);
  return {
    sql: `DELETE FROM ${T} WHERE EXISTS (SELECT 1 FROM (VALUES ${values}) AS ${KEY_ALIAS} WHERE ${matchOn('v', quoteIdent('SuiviMO'))})`,
    params,
    statements: 1,
  };
}

/** UPDATE of existing keys then INSERT of the others, in one request sharing the parameters. */
export function upsertSql(rows: readonly SuiviMoRow[]): SqlText {
  const params: SqlParam[] = [];
  const values = rows
    .map((r) => {
      const i = params.length;
      params.push({ name: `p${i}`, kind: 'nvarchar', value: r.codeChantier });
      params.push({ name: `p${i + 1}`, kind: 'nvarchar', value: r.codeSalarie });
      params.push({ name: `p${i + 2}`, kind: 'date', value: utcDate(r.date) });
      params.push({ name: `p${i + 3}`, kind: 'decimal', value: r.nbH0 });
      params.push({ name: `p${i + 4}`, kind: 'int', value: r.nbH3 });
      params.push({ name: `p${i + 5}`, kind: 'int', value: r.nbH4 });
      return `(@p${i}, @p${i + 1}, CAST(@p${i + 2} AS date), CAST(@p${i + 3} AS decimal(18,4)), CAST(@p${i + 4} AS int), CAST(@p${i + 5} AS int))`;
    })
    .join(', ');
  const update =
    `UPDATE ${T} SET ${C.h0} = v.${C.h0}, ${C.h3} = v.${C.h3}, ${C.h4} = v.${C.h4} ` +
    `FROM (VALUES ${values}) AS ${ROW_ALIAS} WHERE ${matchOn('v', quoteIdent('SuiviMO'))}`;
  const insert =
    `INSERT INTO ${T} (${C.ch}, ${C.sa}, ${C.date}, ${C.h0}, ${C.h3}, ${C.h4}) ` +
    `SELECT v.${C.ch}, v.${C.sa}, v.${C.date}, v.${C.h0}, v.${C.h3}, v.${C.h4} FROM (VALUES ${values}) AS ${ROW_ALIAS} ` +
    `WHERE NOT EXISTS (SELECT 1 FROM ${T} AS s WHERE ${matchOn('s', 'v')})`;
  return { sql: `${update};\n${insert};`, params, statements: 2 };
}

export function selectSql(keys: readonly SuiviMoKey[]): SqlText {
  const params: SqlParam[] = [];
  const values = keyValues(keys, params);
  return {
    sql:
      `SELECT s.${C.ch} AS [CodeChantier], s.${C.sa} AS [CodeSalarie], s.${C.date} AS [Date], s.${C.h0} AS [NbH0], s.${C.h3} AS [NbH3], s.${C.h4} AS [NbH4] ` +
      `FROM ${T} AS s INNER JOIN (VALUES ${values}) AS ${KEY_ALIAS} ON ${matchOn('s', 'v')}`,
    params,
    statements: 1,
  };
}
