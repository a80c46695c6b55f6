import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CHANNEL_NAMES, contract, events, settingsPatchSchema, settingsViewSchema } from '../../../src/shared/contract.js';
import { defaultSettings } from '../../../src/shared/settings.js';

/** Walks a schema and reports any z.any()/z.unknown() (nothing untyped may cross the boundary). */
function findLoose(schema: z.ZodType, path: string, seen = new Set<z.ZodType>()): string[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  if (schema instanceof z.ZodAny || schema instanceof z.ZodUnknown) return [path];
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  const out: string[] = [];
  for (const [k, v] of Object.entries(def)) {
    if (v instanceof z.ZodType) out.push(...findLoose(v, `${path}.${k}`, seen));
    else if (Array.isArray(v)) v.forEach((x, i) => x instanceof z.ZodType && out.push(...findLoose(x, `${path}.${k}[${i}]`, seen)));
    else if (k === 'shape' && v && typeof v === 'object')
      for (const [f, fs] of Object.entries(v)) if (fs instanceof z.ZodType) out.push(...findLoose(fs, `${path}.${f}`, seen));
  }
  return out;
}

describe('IPC contract', () => {
  it('declares the channels the UI needs', () => {
    for (const c of ['settings.get', 'settings.update', 'sync.run', 'journal.list', 'licence.status', 'mapping.get', 'app.info'])
      expect(CHANNEL_NAMES).toContain(c);
  });

  it('the loose-schema finder does find z.unknown nested in arrays and objects', () => {
    expect(findLoose(z.object({ a: z.array(z.object({ b: z.unknown() })) }), 'x')).toEqual(['x.a.element.b']);
  });

  it('has no z.any / z.unknown in any input or output', () => {
    const loose: string[] = [];
    for (const [name, ch] of Object.entries(contract)) {
      loose.push(...findLoose(ch.input, `${name}.input`), ...findLoose(ch.output, `${name}.output`));
    }
    for (const [name, s] of Object.entries(events)) loose.push(...findLoose(s, name));
    expect(loose).toEqual([]);
  });

  it('settings patch: missing fields stay missing (no defaults), unknown keys refused, secrets accept keep/clear', () => {
    expect(settingsPatchSchema.parse({ sqlServer: { server: 'srv' } })).toEqual({ sqlServer: { server: 'srv' } });
    expect(settingsPatchSchema.safeParse({ sqlServer: { serveur: 'x' } }).success).toBe(false);
    expect(settingsPatchSchema.safeParse({ batisimply: { password: { keep: true } } }).success).toBe(true);
    expect(settingsPatchSchema.safeParse({ batisimply: { password: { clear: true } } }).success).toBe(true);
    expect(settingsPatchSchema.safeParse({ batisimply: { password: { set: true } } }).success).toBe(false);
    expect(settingsPatchSchema.safeParse({ version: 3 }).success).toBe(false);
  });

  it('settings view refuses a secret in clear', () => {
    const s = defaultSettings();
    expect(settingsViewSchema.safeParse(s).success).toBe(false);
  });

  it('licence.setKey normalises and checks the key format', () => {
    expect(contract['licence.setKey'].input.parse({ key: ' abcd-efgh-2345-6789 ' })).toEqual({ key: 'ABCD-EFGH-2345-6789' });
    expect(contract['licence.setKey'].input.safeParse({ key: 'ABCD-EFGH' }).success).toBe(false);
  });
});
