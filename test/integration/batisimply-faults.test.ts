/** The BatiSimply client under injected faults (one test per fault), over real sockets. */
import { describe, expect, it } from 'vitest';
import { generateBatisimplySeed, type BatisimplySimulator } from '../support/batisimply/index.js';
import { manualClock, rejection, useBatisimplySimulator } from '../support/batisimply/harness.js';

let sim!: BatisimplySimulator;
const seed = generateBatisimplySeed({ seed: 11, userCount: 3, projects: 12, days: 5 });
const { client } = useBatisimplySimulator({ seed }, (s) => (sim = s), (s) => {
  s.config.duplicateStatus = 400;
});

describe('BatiSimply client — retries', () => {
  it('429 with Retry-After (seconds) → waits what the server asked, then succeeds', async () => {
    const { client: c, sleeps } = client({}, { random: () => 0 });
    sim.faults.add({ route: 'GET /api/users', status: 429, retryAfterSeconds: 7 });
    expect(await c.listUsers()).toHaveLength(3);
    expect(sleeps).toEqual([7000]);
    expect(sim.log.of('GET /api/users').map((e) => e.status)).toEqual([429, 200]);
  });

  it('429 with Retry-After as an HTTP date → waits until that date', async () => {
    const t0 = Math.floor(Date.now() / 1000) * 1000;
    const { client: c, sleeps } = client({}, { random: () => 0, clock: manualClock(t0) });
    sim.faults.add({ route: 'GET /api/users', status: 429, retryAfterDate: new Date(t0 + 5000) });
    await c.listUsers();
    expect(sleeps).toEqual([5000]);
  });

  it('429 asking to wait longer than the cap → BS_RATE_LIMITED at once, no sleep', async () => {
    const { client: c, sleeps } = client({}, { maxDelayMs: 10_000 });
    sim.faults.add({ route: 'GET /api/users', status: 429, retryAfterSeconds: 600 });
    const err = await rejection(c.listUsers());
    expect(err.code).toBe('BS_RATE_LIMITED');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/600 s/);
    expect(sleeps).toEqual([]);
    expect(sim.log.count('GET /api/users')).toBe(1);
  });

  it('429 beyond the retry cap → BS_RATE_LIMITED after maxRetries + 1 calls', async () => {
    const { client: c, sleeps } = client({ maxRetries: 2 });
    sim.faults.add({ route: 'GET /api/users', status: 429, retryAfterSeconds: 1, times: Infinity });
    const err = await rejection(c.listUsers());
    expect(err.code).toBe('BS_RATE_LIMITED');
    expect(sim.log.count('GET /api/users')).toBe(3);
    expect(sleeps).toHaveLength(2);
  });

  it('a burst of 5xx then success → exponential backoff with jitter', async () => {
    const { client: c, sleeps } = client({ maxRetries: 4 }, { random: () => 0.5, baseDelayMs: 400 });
    sim.faults.add({ route: 'GET /api/project', status: 502 });
    sim.faults.add({ route: 'GET /api/project', status: 503 });
    sim.faults.add({ route: 'GET /api/project', status: 500 });
    expect(await c.listProjects()).toHaveLength(12);
    expect(sim.log.of('GET /api/project').map((e) => e.status)).toEqual([502, 503, 500, 200]);
    // equal jitter: exp/2 + random·exp/2 with exp = 400·2^attempt
    expect(sleeps).toEqual([300, 600, 1200]);
  });

  it('jitter spreads the delays (random drawn per retry)', async () => {
    const draws = [0, 1];
    const { client: c, sleeps } = client({}, { random: () => draws.shift() ?? 0, baseDelayMs: 1000 });
    sim.faults.add({ route: 'GET /api/users', status: 503, times: 2 });
    await c.listUsers();
    expect(sleeps).toEqual([500, 2000]);
  });

  it('5xx beyond the cap → typed BS_SERVER_ERROR, retryable', async () => {
    const { client: c } = client({ maxRetries: 3 });
    sim.faults.add({ route: 'GET /api/project', status: 500, times: Infinity });
    const err = await rejection(c.listProjects());
    expect(err.code).toBe('BS_SERVER_ERROR');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/HTTP 500/);
    expect(sim.log.count('GET /api/project')).toBe(4);
  });

  it('connection reset → retried, then success', async () => {
    const { client: c } = client();
    sim.faults.add({ route: 'GET /api/users', reset: true, times: 2 });
    expect(await c.listUsers()).toHaveLength(3);
    expect(sim.log.count('GET /api/users')).toBe(3);
  });

  it('connection reset every time → BS_API_UNREACHABLE after the cap', async () => {
    const { client: c } = client({ maxRetries: 2 });
    sim.faults.add({ route: 'GET /api/users', reset: true, times: Infinity });
    const err = await rejection(c.listUsers());
    expect(err.code).toBe('BS_API_UNREACHABLE');
    expect(sim.log.count('GET /api/users')).toBe(3);
  });

  it('latency beyond the timeout once → retried, then success', async () => {
    const { client: c } = client({ timeoutMs: 800 });
    sim.faults.add({ route: 'GET /api/users', latencyMs: 2500 });
    expect(await c.listUsers()).toHaveLength(3);
    expect(c.apiStats().byRoute['GET users']).toBe(2);
  });

  it('latency beyond the timeout every time → typed TIMEOUT after the cap', async () => {
    const { client: c } = client({ timeoutMs: 800, maxRetries: 1 });
    sim.faults.add({ route: 'GET /api/users', latencyMs: 2500, times: Infinity });
    const err = await rejection(c.listUsers());
    expect(err.code).toBe('TIMEOUT');
    expect(err.retryable).toBe(true);
    expect(c.apiStats().byRoute['GET users']).toBe(2);
  });

  it('cancellation during a slow answer → CANCELLED at once, not retried', async () => {
    const ac = new AbortController();
    const { client: c, sleeps } = client({ timeoutMs: 10_000 });
    await c.listUsers(); // token in hand
    sim.faults.add({ route: 'GET /api/users', latencyMs: 3000 });
    const pending = c.listUsers({ signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const err = await rejection(pending);
    expect(err.code).toBe('CANCELLED');
    expect(sleeps).toEqual([]);
    expect(c.apiStats().byRoute['GET users']).toBe(2);
  });

  it('cancellation during a backoff wait → CANCELLED, no further call', async () => {
    const ac = new AbortController();
    const { client: c } = client({}, { sleep: async () => ac.abort() });
    sim.faults.add({ route: 'GET /api/users', status: 503 });
    const err = await rejection(c.listUsers({ signal: ac.signal }));
    expect(err.code).toBe('CANCELLED');
    expect(sim.log.count('GET /api/users')).toBe(1);
  });
});

describe('BatiSimply client — bad answers', () => {
  it('truncated body once → retried, then success', async () => {
    const { client: c } = client();
    sim.faults.add({ route: 'GET /api/project', truncate: true });
    expect(await c.listProjects()).toHaveLength(12);
    expect(sim.log.count('GET /api/project')).toBe(2);
  });

  it('truncated body every time → BS_BAD_RESPONSE', async () => {
    const { client: c } = client({ maxRetries: 1 });
    sim.faults.add({ route: 'GET /api/project', truncate: true, times: Infinity });
    const err = await rejection(c.listProjects());
    expect(err.code).toBe('BS_BAD_RESPONSE');
    expect(err.message).toMatch(/chantiers/);
  });

  it('malformed JSON → BS_BAD_RESPONSE, not retried', async () => {
    const { client: c } = client();
    sim.faults.add({ route: 'GET /api/project', malformedJson: true });
    const err = await rejection(c.listProjects());
    expect(err.code).toBe('BS_BAD_RESPONSE');
    expect(sim.log.count('GET /api/project')).toBe(1);
  });

  it('wrong field types → BS_BAD_RESPONSE naming the field in the detail', async () => {
    const { client: c } = client();
    sim.faults.add({ route: 'GET /api/project', body: [{ id: 1, projectCode: 42, projectName: 'X' }] });
    const err = await rejection(c.listProjects());
    expect(err.code).toBe('BS_BAD_RESPONSE');
    expect(err.detail).toMatch(/projectCode/);
  });

  it('an object that is no list → BS_BAD_RESPONSE', async () => {
    const { client: c } = client();
    sim.faults.add({ route: 'GET /api/timeSlotManagement/allUsers', body: { message: 'maintenance' } });
    const err = await rejection(c.listTimeSlots({ start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-10T00:00:00Z') }));
    expect(err.code).toBe('BS_BAD_RESPONSE');
  });

  it('an HTML error page with status 200 → BS_BAD_RESPONSE', async () => {
    const { client: c } = client();
    sim.faults.add({ route: 'GET /api/project/{id}', body: '<html><body>Proxy error</body></html>', headers: { 'content-type': 'text/html' } });
    const err = await rejection(c.getProject('1001'));
    expect(err.code).toBe('BS_BAD_RESPONSE');
  });
});

describe('BatiSimply client — errors that a retry cannot fix', () => {
  it('duplicate projectCode (400, JHipster) → BS_CONFLICT, one call', async () => {
    const { client: c } = client();
    const err = await rejection(c.createProject({ projectCode: seed.projects[0]!.projectCode, projectName: 'Doublon' }));
    expect(err.code).toBe('BS_CONFLICT');
    expect(sim.log.count('POST /api/project')).toBe(1);
    expect([...sim.state.projects.values()].filter((p) => p.projectCode === seed.projects[0]!.projectCode)).toHaveLength(1);
  });

  it('duplicate projectCode (409) → BS_CONFLICT, one call', async () => {
    sim.config.duplicateStatus = 409;
    const { client: c } = client();
    const err = await rejection(c.createProject({ projectCode: seed.projects[1]!.projectCode, projectName: 'Doublon' }));
    expect(err.code).toBe('BS_CONFLICT');
    expect(sim.log.count('POST /api/project')).toBe(1);
  });

  it('validation error (400) → BS_REQUEST_REJECTED naming the field, one call', async () => {
    const { client: c } = client();
    const err = await rejection(c.createProject({ projectCode: 'VIDE0001', projectName: '' }));
    expect(err.code).toBe('BS_REQUEST_REJECTED');
    expect(err.message).toMatch(/projectName/);
    expect(sim.log.count('POST /api/project')).toBe(1);
  });

  it.each([403, 404, 422])('%i → not retried', async (status) => {
    const { client: c, sleeps } = client();
    sim.faults.add({ route: 'GET /api/users', status });
    const err = await rejection(c.listUsers());
    expect(err.code).toBe(status === 404 ? 'BS_NOT_FOUND' : 'BS_REQUEST_REJECTED');
    expect(sim.log.count('GET /api/users')).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('unknown project id → null (404), one call', async () => {
    const { client: c } = client();
    expect(await c.getProject('424242')).toBeNull();
    expect(sim.log.count('GET /api/project/{id}')).toBe(1);
  });
});

describe('BatiSimply client — writes stay exactly-once', () => {
  it('create whose answer is lost (truncated after processing) → found by code, no second project', async () => {
    const { client: c } = client();
    sim.faults.add({ route: 'POST /api/project', truncate: true });
    const p = await c.createProject({ projectCode: 'TRUNC001', projectName: 'Chantier perdu' });
    expect(p.projectCode).toBe('TRUNC001');
    expect(sim.log.count('POST /api/project')).toBe(1);
    expect([...sim.state.projects.values()].filter((x) => x.projectCode === 'TRUNC001')).toHaveLength(1);
  });

  it('create refused by a reset connection → posted again, created once', async () => {
    const { client: c } = client();
    sim.faults.add({ route: 'POST /api/project', reset: true });
    const p = await c.createProject({ projectCode: 'RESET001', projectName: 'Chantier' });
    expect(p.projectCode).toBe('RESET001');
    expect(sim.log.count('POST /api/project')).toBe(2);
    expect([...sim.state.projects.values()].filter((x) => x.projectCode === 'RESET001')).toHaveLength(1);
  });

  it('create answered 201 without a body → read back by its code', async () => {
    const { client: c } = client();
    sim.faults.add({ route: 'POST /api/project', status: 201, body: '' });
    // A status fault short-circuits processing: emulate the server having created it.
    sim.state.addProject({ projectCode: 'NOBODY01', projectName: 'Créé sans réponse' });
    const p = await c.createProject({ projectCode: 'NOBODY01', projectName: 'Créé sans réponse' });
    expect(p.projectName).toBe('Créé sans réponse');
  });

  it('a conflict on create invalidates the cached code index', async () => {
    const { client: c } = client();
    await c.listProjects();
    sim.state.addProject({ projectCode: 'OTHERPC1', projectName: 'Créé par un autre poste' });
    expect(await c.findProjectByCode('OTHERPC1')).toBeNull(); // stale index, by design within a run
    expect((await rejection(c.createProject({ projectCode: 'OTHERPC1', projectName: 'x' }))).code).toBe('BS_CONFLICT');
    expect((await c.findProjectByCode('OTHERPC1'))?.projectName).toBe('Créé par un autre poste');
  });

  it('quote POST with 500 → not retried (could duplicate); 503 → retried', async () => {
    const { client: c } = client();
    sim.faults.add({ route: 'POST /api/quote', status: 500 });
    expect((await rejection(c.createQuote({ quoteNumber: 'D1' }))).code).toBe('BS_SERVER_ERROR');
    expect(sim.log.count('POST /api/quote')).toBe(1);
    sim.faults.add({ route: 'POST /api/quote', status: 503 });
    await c.createQuote({ quoteNumber: 'D2' });
    expect(sim.log.count('POST /api/quote')).toBe(3);
  });

  it('PUT with 502 → retried (idempotent), entity updated once', async () => {
    const { client: c } = client();
    const p = await c.getProject('1005');
    sim.faults.add({ route: 'PUT /api/project/{id}', status: 502 });
    const u = await c.updateProject(p!.id, { projectCode: p!.projectCode, projectName: 'Renommé', hoursSold: 77 });
    expect(u).toMatchObject({ projectName: 'Renommé', hoursSold: 77 });
    expect(sim.log.of('PUT /api/project/{id}').map((e) => e.status)).toEqual([502, 200]);
  });
});

describe('BatiSimply client — bounded concurrency', () => {
  it('never has more than settings.concurrency requests in flight', async () => {
    const { client: c } = client({ concurrency: 2 }, { pageSize: 2 });
    sim.faults.add({ route: 'GET /api/project', latencyMs: 30, times: Infinity });
    sim.log.clear();
    const [a, b] = await Promise.all([c.listProjects(), c.listUsers()]);
    expect(a).toHaveLength(sim.state.projects.size);
    expect(b).toHaveLength(3);
    expect(sim.log.maxInFlight).toBeLessThanOrEqual(2);
    expect(sim.log.maxInFlight).toBe(2);
  });
});

describe('BatiSimply client — unreadable time slots', () => {
  const start = new Date(Date.UTC(2026, 0, 20));
  const end = new Date(Date.UTC(2026, 1, 1));
  const route = 'GET /api/timeSlotManagement/allUsers';

  it('with onInvalid: the readable slots are returned, each unreadable one reported once with its id and a French reason', async () => {
    const { client: c } = client({}, { timeSlotChunkDays: 5 });
    const real = sim.state.slotsInWindow(start.getTime(), end.getTime()).map((s) => sim.state.slotJson(s));
    expect(real.length).toBeGreaterThan(3);
    const [a, b, d, ...rest] = real;
    const body = [
      { ...a, totalTimeMinutes: 'beaucoup' },
      { ...b, user: undefined },
      { ...d, id: undefined },
      42,
      ...rest,
    ];
    sim.faults.add({ route, body, times: Infinity });
    const rejected: { id: string | null; reason: string; key?: string }[] = [];
    const slots = await c.listTimeSlots({ start, end }, { onInvalid: (r) => rejected.push(r) });
    // Several chunks answered the same body: still each slot once, each unreadable one reported once.
    expect(sim.log.count(route)).toBeGreaterThan(1);
    expect(slots.map((s) => s.id).sort()).toEqual(rest.map((s) => String(s.id)).sort());
    expect(rejected).toHaveLength(4);
    const byId = new Map(rejected.map((r) => [r.id, r.reason]));
    expect(byId.get(String(a!.id))).toBe('champ « totalTimeMinutes » de type incorrect (un nombre attendu, reçu un texte)');
    expect(byId.get(String(b!.id))).toBe('champ « user » manquant');
    const idless = rejected.filter((r) => r.id === null).map((r) => r.reason).sort();
    expect(idless).toEqual(['champ « id » manquant', "l'élément n'est pas un objet (reçu un nombre)"]);
    // An item without id carries its JSON as a key (the hours flow reports it once across its segments); others do not.
    expect(rejected.filter((r) => r.id === null).map((r) => r.key).sort()).toEqual(['raw:42', `raw:${JSON.stringify({ ...d, id: undefined })}`].sort());
    expect(rejected.filter((r) => r.id !== null).every((r) => r.key === undefined)).toBe(true);
  });

  it('without onInvalid, one unreadable slot still refuses the whole listing (BS_BAD_RESPONSE)', async () => {
    const { client: c } = client();
    const real = sim.state.slotsInWindow(start.getTime(), end.getTime()).map((s) => sim.state.slotJson(s));
    sim.faults.add({ route, body: [{ ...real[0], totalTimeMinutes: 'beaucoup' }, ...real.slice(1)], times: Infinity });
    const err = await rejection(c.listTimeSlots({ start, end }));
    expect(err.code).toBe('BS_BAD_RESPONSE');
    expect(err.detail).toMatch(/totalTimeMinutes/);
  });

  it('an answer that is no list still fails with onInvalid (nothing reported)', async () => {
    const { client: c } = client();
    sim.faults.add({ route, body: { message: 'maintenance' } });
    const rejected: unknown[] = [];
    const err = await rejection(c.listTimeSlots({ start, end }, { onInvalid: (r) => rejected.push(r) }));
    expect(err.code).toBe('BS_BAD_RESPONSE');
    expect(rejected).toEqual([]);
  });

  it('paged listing: an unreadable item still counts in its page, so the following pages are read', async () => {
    sim.config.paged.timeSlots = true;
    try {
      const { client: c } = client({}, { pageSize: 3 });
      const real = sim.state.slotsInWindow(start.getTime(), end.getTime());
      expect(real.length).toBeGreaterThan(6);
      const first = real.slice(0, 3).map((s) => sim.state.slotJson(s));
      sim.faults.add({ route, body: [first[0], { ...first[1], managementStatus: null }, first[2]], times: 1 });
      const rejected: { id: string | null; reason: string }[] = [];
      const slots = await c.listTimeSlots({ start, end }, { onInvalid: (r) => rejected.push(r) });
      expect(slots.map((s) => s.id).sort()).toEqual(real.filter((_, i) => i !== 1).map((s) => String(s.id)).sort());
      expect(rejected).toEqual([{ id: String(real[1]!.id), reason: 'champ « managementStatus » de type incorrect (un texte attendu, reçu vide (null))' }]);
    } finally {
      sim.config.paged.timeSlots = false;
    }
  });
});
