/** The import agent’s pure parts: Windows-safe names, the listing against the buffer, the recovery decisions. */
import { describe, expect, it } from 'vitest';
import type { ImportRow } from '../../../src/main/services/buffer/imports.js';
import { importNameOf, inside, partName, safeExportId, safeFileName } from '../../../src/main/services/sync/flows/imports/names.js';
import { afterHanding, afterWithdrawing, planListing, timedOut, verifyDownload } from '../../../src/main/services/sync/flows/imports/plan.js';

const row = (id: string, state: ImportRow['state']): ImportRow => ({
  export_id: id,
  agent_id: 'moi',
  doc_type: null,
  file_name: 'f.xml',
  import_name: `${id}_f.xml`,
  size: null,
  checksum: null,
  state,
  reason: null,
  attempts: 0,
  first_seen: new Date(),
  updated_at: new Date(),
  handed_at: null,
  done_at: null,
  run_id: null,
});
const listed = (id: string, fileName: string | null = 'f.xml') => ({ id, type: 'devis', fileName, size: 10, checksum: 'ab', downloadUrl: null });

describe('names Windows accepts', () => {
  it.each([
    ['CON', '_CON'],
    ['con.xml', '_con.xml'],
    ['LPT1', '_LPT1'],
    ['Com9.csv', '_Com9.csv'],
    ['aux .xml', '_aux .xml'],
    ['..\\..\\Windows\\system.ini', 'system.ini'],
    ['../etc/passwd', 'passwd'],
    ['C:devis.xml', 'C_devis.xml'],
    ['a<b>c|d?e*f"g.xml', 'a_b_c_d_e_f_g.xml'],
    ['devis.xml. . ', 'devis.xml'],
    ['..', 'repli.xml'],
    ['', 'repli.xml'],
    ['\u0000\u0007x.xml', '__x.xml'],
  ])('%j → %j', (raw, want) => expect(safeFileName(raw, 'repli.xml')).toBe(want));

  it('keeps names to 120 characters with their extension, ids first, and refuses ids that are paths', () => {
    const long = safeFileName(`${'a'.repeat(300)}.xml`, 'x');
    expect(long).toHaveLength(120);
    expect(long.endsWith('.xml')).toBe(true);
    expect(importNameOf('EXP-1', 'devis.xml')).toBe('EXP-1_devis.xml');
    expect(partName('EXP-1_devis.xml')).toBe('~EXP-1_devis.xml.cbs-part');
    expect(safeExportId('EXP-1')).toBe('EXP-1');
    for (const bad of ['../x', 'a/b', 'a\\b', '', '.hidden', 'a..b', 'x'.repeat(101)]) expect(safeExportId(bad)).toBeNull();
    expect(() => inside('/tmp/w', '../x')).toThrow();
    expect(inside('/tmp/w', 'ok.xml')).toBe('/tmp/w/ok.xml');
  });
});

describe('the listing against the buffer', () => {
  it('records new exports, re-acknowledges synced ones, retries errored ones, leaves the ones in progress, refuses bad ids', () => {
    const known = new Map([
      ['A', row('A', 'synced')],
      ['B', row('B', 'errored')],
      ['C', row('C', 'handed')],
      ['F', { ...row('F', 'handed'), agent_id: 'autre-poste' }],
    ]);
    const plan = planListing([listed('A'), listed('B'), listed('C'), listed('D'), listed('D'), listed('../E'), listed('F')], known, 'moi');
    expect(plan.reack).toEqual(['A']);
    expect(plan.fresh.map((f) => f.exportId)).toEqual(['B', 'D']);
    expect(plan.refused).toHaveLength(1);
  });
});

describe('recovery decisions', () => {
  it('handing: the file there → handed; only the part → copy again; neither → Batigest took it (never copied twice)', () => {
    expect(afterHanding({ final: true, part: false })).toBe('handed');
    expect(afterHanding({ final: true, part: true })).toBe('handed');
    expect(afterHanding({ final: false, part: true })).toBe('copy');
    expect(afterHanding({ final: false, part: false })).toBe('consumed');
  });
  it('withdrawing: the file there → take it back; the part → taken back; neither → Batigest took it', () => {
    expect(afterWithdrawing({ final: true, part: false })).toBe('withdraw');
    expect(afterWithdrawing({ final: false, part: true })).toBe('withdrawn');
    expect(afterWithdrawing({ final: false, part: false })).toBe('consumed');
  });
  it('timeout and download checks', () => {
    const t = new Date('2026-12-01T10:00:00Z');
    expect(timedOut(t, new Date('2026-12-01T10:02:00Z'), 120)).toBe(true);
    expect(timedOut(t, new Date('2026-12-01T10:01:59Z'), 120)).toBe(false);
    expect(timedOut(null, new Date(), 1)).toBe(false);
    expect(verifyDownload({ size: 10, checksum: 'ab' }, { bytes: 10, sha256: 'ab' })).toBeNull();
    expect(verifyDownload({ size: 10, checksum: null }, { bytes: 9, sha256: 'x' })).toContain('9 octets au lieu de 10');
    expect(verifyDownload({ size: null, checksum: 'ab' }, { bytes: 9, sha256: 'cd' })).toContain("l’empreinte");
  });
});
