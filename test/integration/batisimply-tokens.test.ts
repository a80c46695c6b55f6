/** Token manager behaviour against the simulator's Keycloak endpoint: re-auth, revocation, refresh, single flight. */
import { describe, expect, it } from 'vitest';
import { generateBatisimplySeed, type BatisimplySimulator } from '../support/batisimply/index.js';
import { manualClock, rejection, useBatisimplySimulator } from '../support/batisimply/harness.js';

let sim!: BatisimplySimulator;
const seed = generateBatisimplySeed({ seed: 3, userCount: 3, projects: 5, days: 5 });
const { client } = useBatisimplySimulator({ seed, tokenLifetimeSeconds: 60 }, (s) => (sim = s), (s) => {
  s.state.setAccountDisabled('bureau@exemple.fr', false);
});

describe('BatiSimply tokens', () => {
  it('401 on an API call → exactly one re-authentication, then success', async () => {
    const { client: c } = client();
    await c.listUsers();
    sim.log.clear();
    sim.faults.add({ route: 'GET /api/users', status: 401 });
    const users = await c.listUsers();
    expect(users).toHaveLength(3);
    expect(sim.log.count('GET /api/users')).toBe(2);
    // The refresh token is still good: the re-authentication uses it.
    expect(sim.log.tokenRequests().map((e) => e.grantType)).toEqual(['refresh_token']);
    expect(c.apiStats().reauthentications).toBe(1);
  });

  it('401 again after re-authenticating → BS_AUTH_FAILED, no loop', async () => {
    const { client: c } = client();
    sim.faults.add({ route: 'GET /api/users', status: 401, times: Infinity });
    const err = await rejection(c.listUsers());
    expect(err.code).toBe('BS_AUTH_FAILED');
    expect(sim.log.count('GET /api/users')).toBe(2);
  });

  it('a token revoked before its expiry → refresh refused → password grant → success', async () => {
    const { client: c } = client();
    await c.listUsers();
    sim.revokeTokens();
    sim.log.clear();
    expect(await c.listUsers()).toHaveLength(3);
    expect(sim.log.tokenRequests().map((e) => `${e.grantType}:${e.status}`)).toEqual(['refresh_token:400', 'password:200']);
    expect(sim.log.of('GET /api/users').map((e) => e.status)).toEqual([401, 200]);
  });

  it('refreshes the token before it expires (injected clock), without any 401', async () => {
    const clock = manualClock();
    const { client: c } = client({}, { clock });
    await c.listUsers();
    clock.advance(40_000); // 20 s left of 60: outside the skew (min(30 s, 60/5 = 12 s))
    await c.listUsers();
    expect(sim.log.tokenRequests().map((e) => e.grantType)).toEqual(['password']);
    clock.advance(10_000); // 10 s left: inside the skew → refresh first
    await c.listUsers();
    expect(sim.log.tokenRequests().map((e) => e.grantType)).toEqual(['password', 'refresh_token']);
    expect(sim.log.of('GET /api/users').every((e) => e.status === 200)).toBe(true);
    clock.advance(5_000);
    await c.listUsers();
    expect(sim.log.tokenRequests()).toHaveLength(2);
  });

  it('an expired refresh token falls back to the password grant', async () => {
    const clock = manualClock();
    const { client: c } = client({}, { clock });
    await c.listUsers();
    clock.advance(2 * 3600_000); // both tokens expired by the client's clock
    await c.listUsers();
    expect(sim.log.tokenRequests().map((e) => e.grantType)).toEqual(['password', 'password']);
  });

  it('single flight: 10 concurrent calls → 1 token request', async () => {
    const { client: c } = client();
    const results = await Promise.all(Array.from({ length: 10 }, () => c.listUsers()));
    expect(results.every((r) => r.length === 3)).toBe(true);
    expect(sim.log.tokenRequests()).toHaveLength(1);
    expect(sim.log.count('GET /api/users')).toBe(10);
  });

  it('single flight after revocation: 10 concurrent 401s → one refresh attempt and one password grant', async () => {
    const { client: c } = client();
    await c.listUsers();
    sim.revokeTokens();
    sim.log.clear();
    await Promise.all(Array.from({ length: 10 }, () => c.listUsers()));
    expect(sim.log.tokenRequests().map((e) => e.grantType)).toEqual(['refresh_token', 'password']);
  });

  it('token endpoint 503 then success → retried with backoff', async () => {
    const { client: c, sleeps } = client();
    sim.faults.add({ route: 'POST /token', status: 503, times: 2 });
    expect(await c.listUsers()).toHaveLength(3);
    expect(sim.log.tokenRequests()).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('account disabled while running → BS_ACCOUNT_DISABLED in French', async () => {
    const { client: c } = client();
    await c.listUsers();
    sim.setAccountDisabled('bureau@exemple.fr', true);
    const err = await rejection(c.listUsers());
    expect(err.code).toBe('BS_ACCOUNT_DISABLED');
    expect(err.message).toMatch(/désactivé/);
  });
});
