/**
 * Retries are not compounded: the BatiSimply client already retries a 5xx (settings.batisimply.maxRetries,
 * backoff, Retry-After), so the engine does not wrap its calls in retries of its own. A record whose create
 * keeps failing is attempted at most maxRetries+1 times in a run, journaled as failed with a French reason,
 * and created on the next run.
 */
import { describe, expect, it } from 'vitest';
import { useSimHarness, type Harness } from '../support/sync/harness.js';

describe('sync retries (simulators)', () => {
  let h!: Harness;
  useSimHarness((x) => (h = x), {
    beforeEach: () => {
      h.sims!.bs.faults.clear();
      h.sims!.bs.log.clear();
    },
  });

  it('a persistent 503 on create costs at most maxRetries+1 requests per record; the record is journaled failed and created next run', async () => {
    const maxRetries = h.settings.batisimply.maxRetries;
    expect(maxRetries).toBeGreaterThan(0);
    h.sims!.bs.faults.add({ route: 'POST /api/project', status: 503, times: Number.POSITIVE_INFINITY });
    const [r] = await h.engine().run('push');
    expect(r!.status).toBe('failed');
    expect(r!.errorCode).toBe('BS_SERVER_ERROR');
    expect(r!.message).toMatch(/serveur BatiSimply est en erreur/);

    const posts = h.sims!.bs.log.of('POST /api/project');
    expect(posts.length).toBeGreaterThan(0);
    const perCode = new Map<string, number>();
    for (const p of posts) {
      const code = String((p.body as { projectCode?: unknown }).projectCode);
      perCode.set(code, (perCode.get(code) ?? 0) + 1);
    }
    for (const [code, n] of perCode) expect({ code, n }).toEqual({ code, n: Math.min(n, maxRetries + 1) });
    expect(Math.max(...perCode.values())).toBe(maxRetries + 1);

    const failed = (await h.buffer.listRunItems(r!.runId)).filter((i) => i.action === 'failed');
    expect(failed.map((i) => i.record_key).sort()).toEqual([...perCode.keys()].map((c) => `chantier:${c}`).sort());
    for (const f of failed) expect(f.reason).toMatch(/serveur BatiSimply est en erreur.*Nouvel essai au prochain passage/);
    expect(h.state.projects.size).toBe(0);

    h.sims!.bs.faults.clear();
    const [r2] = await h.engine().run('push');
    expect(r2).toMatchObject({ status: 'succeeded', counts: { created: 3, failed: 0 } });
    for (const c of ['00000101', '00000102', '00000103']) expect(h.projectsByCode(c)).toHaveLength(1);
  });

  it('a transient 503 is still absorbed by the client retries', async () => {
    h.sims!.bs.faults.add({ route: 'POST /api/project', status: 503, times: h.settings.batisimply.maxRetries });
    const [r] = await h.engine().run('push');
    expect(r).toMatchObject({ status: 'succeeded', counts: { created: 3, failed: 0 } });
  });
});
