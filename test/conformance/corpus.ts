/**
 * The conformance corpus (corpus.json): statements run through the three drivers by conformance.test.ts.
 *
 * - `gateway` entries are CAPTURED, never written by hand: capture.test.ts runs a full sync of the real engine
 *   against the simulators with the TDS simulator recording every SQL text, normalises each one (below) and
 *   fails when the gateway sends a statement absent from the corpus. `CONFORMANCE_CAPTURE=1` rewrites them.
 * - `client` entries are written by hand: types, collation, system calls, errors clients meet.
 *
 * Normalisation makes a statement independent of the data of one run: a multi-row VALUES list keeps its first
 * row, parameters are renumbered @p0, @p1… in order of appearance (their captured value and type are kept).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { findClose, tokenize, type Tok } from '../support/tds/tsql.js';

export const CORPUS_PATH = fileURLToPath(new URL('./corpus.json', import.meta.url));

const paramSchema = z.object({ name: z.string().regex(/^@\w+$/), sqlType: z.string().min(1), value: z.string().nullable() });
export type CorpusParam = z.infer<typeof paramSchema>;

export const entrySchema = z.object({
  id: z.string().min(1),
  source: z.enum(['gateway', 'client']),
  /** what the entry proves (client entries) or where the gateway sends it */
  note: z.string().optional(),
  sql: z.string().min(1),
  params: z.array(paramSchema).default([]),
  /** SQL Server error number every driver must report (client entries that prove an error) */
  error: z.number().int().optional(),
});
export type CorpusEntry = z.infer<typeof entrySchema>;

const corpusSchema = z.object({ statements: z.array(entrySchema) });

export function loadCorpus(): CorpusEntry[] {
  const parsed = corpusSchema.parse(JSON.parse(readFileSync(CORPUS_PATH, 'utf8')));
  const ids = new Set<string>();
  for (const e of parsed.statements) {
    if (ids.has(e.id)) throw new Error(`corpus.json: duplicate id ${e.id}`);
    ids.add(e.id);
  }
  return parsed.statements;
}

export function saveCorpus(entries: CorpusEntry[]): void {
  writeFileSync(CORPUS_PATH, JSON.stringify({ statements: entries }, null, 2) + '\n');
}

/** Removes every row but the first of each multi-row VALUES list (token positions refer to `sql`). */
function collapseValues(sql: string, toks: Tok[]): string {
  const cuts: [number, number][] = [];
  for (let i = 0; i < toks.length; i++) {
    if (toks[i]!.k !== 'word' || toks[i]!.v.toUpperCase() !== 'VALUES' || toks[i + 1]?.k !== 'lp') continue;
    let close = findClose(toks, i + 1);
    const firstEnd = close;
    while (toks[close + 1]?.k === 'comma' && toks[close + 2]?.k === 'lp') close = findClose(toks, close + 2);
    if (close !== firstEnd) cuts.push([toks[firstEnd]!.end, toks[close]!.end]);
    i = close;
  }
  let out = sql;
  for (const [a, b] of cuts.reverse()) out = out.slice(0, a) + out.slice(b);
  return out;
}

/** Normalises one captured statement: VALUES collapsed to one row, parameters renumbered @p0… in order. */
export function normalise(sql: string, params: { name: string; sqlType: string; value: string | null }[]): { sql: string; params: CorpusParam[] } {
  const collapsed = collapseValues(sql, tokenize(sql));
  const toks = tokenize(collapsed);
  const byName = new Map(params.map((p, i) => [(p.name || `@p${i}`).toLowerCase(), p]));
  const renamed = new Map<string, string>();
  const out: CorpusParam[] = [];
  let text = '';
  let at = 0;
  for (const t of toks) {
    if (t.k !== 'var') continue;
    const key = t.v.toLowerCase();
    const p = byName.get(key);
    if (!p) continue; // a DECLAREd variable
    let name = renamed.get(key);
    if (!name) {
      name = `@p${renamed.size}`;
      renamed.set(key, name);
      out.push({ name, sqlType: p.sqlType, value: p.value });
    }
    text += collapsed.slice(at, t.pos) + name;
    at = t.end;
  }
  text += collapsed.slice(at);
  return { sql: text, params: out };
}

/** The statement text with @names replaced by `?` and the parameter list in order of occurrence (ODBC). */
export function toQmark(sql: string, params: CorpusParam[]): { sql: string; params: CorpusParam[] } {
  if (params.length === 0) return { sql, params };
  const byName = new Map(params.map((p) => [p.name.toLowerCase(), p]));
  let text = '';
  let at = 0;
  const ordered: CorpusParam[] = [];
  for (const t of tokenize(sql)) {
    if (t.k !== 'var') continue;
    const p = byName.get(t.v.toLowerCase());
    if (!p) continue;
    text += sql.slice(at, t.pos) + '?';
    at = t.end;
    ordered.push(p);
  }
  return { sql: text + sql.slice(at), params: ordered };
}
