/**
 * The engine names the accounting software the user has chosen (settings.software): "Codial" in the
 * progress labels and journal messages of a Codial installation, "Sage Batigest" otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/shared/domain.js';
import { SOFTWARE_LABELS } from '../../src/shared/settings.js';
import { memoryHarness, testSettings, U3, type Harness } from '../support/sync/harness.js';

async function labelsAndReasons(h: Harness): Promise<{ labels: string[]; reasons: string[] }> {
  const progress: ProgressEvent[] = [];
  const onProgress = (e: ProgressEvent): void => void progress.push(e);
  const [push] = await h.engine().run('push', { onProgress });
  const projectId = h.projectsByCode('00000101')[0]!.id;
  // Paul Leroy (U3) has no salarié: his validated slot stays out, with a journal message.
  h.state.addSlot({ id: 7, startDate: '2026-07-01T07:00:00Z', userId: U3, projectId, managementStatus: 'VALIDATED', totalTimeMinutes: 60 });
  const [hours] = await h.engine().run('hours', { onProgress });
  const items = [...(await h.buffer.listRunItems(push!.runId)), ...(await h.buffer.listRunItems(hours!.runId))];
  return { labels: [...new Set(progress.map((p) => p.label))], reasons: items.map((i) => i.reason ?? '') };
}

describe('software label in the engine (memory harness)', () => {
  let codial!: Harness;
  let batigest!: Harness;
  beforeAll(async () => {
    codial = await memoryHarness(undefined, () => testSettings((s) => void (s.software = 'codial')));
    batigest = await memoryHarness();
  });
  afterAll(async () => {
    await codial?.close();
    await batigest?.close();
  });

  it('a Codial installation reads "Codial", never "Batigest", in progress labels and journal messages', async () => {
    const { labels, reasons } = await labelsAndReasons(codial);
    expect(labels).toContain('Lecture des chantiers Codial');
    expect(labels).toContain('Lecture des salariés Codial');
    expect(labels.filter((l) => /Batigest/.test(l))).toEqual([]);
    const unmapped = reasons.find((r) => r.startsWith('Aucun salarié'));
    expect(unmapped).toMatch(/^Aucun salarié Codial pour l'utilisateur BatiSimply Paul Leroy/);
    expect(reasons.filter((r) => /Batigest/.test(r))).toEqual([]);
  });

  it('a Batigest installation reads "Sage Batigest"', async () => {
    const { labels, reasons } = await labelsAndReasons(batigest);
    expect(SOFTWARE_LABELS.batigest).toBe('Sage Batigest');
    expect(labels).toContain('Lecture des chantiers Sage Batigest');
    expect(reasons.find((r) => r.startsWith('Aucun salarié'))).toMatch(/^Aucun salarié Sage Batigest pour/);
  });
});
