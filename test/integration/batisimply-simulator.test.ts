/** The BatiSimply simulator itself, spoken to with plain fetch: Keycloak and JHipster shapes, state helpers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBatisimplySimulator, TOKEN_PATH, type BatisimplySimulator } from '../support/batisimply/index.js';

let sim: BatisimplySimulator;
const USER = '0b8f7e32-1d7c-4d0e-9a51-6c1e2f3a4b5c';

async function token(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(sim.ssoUrl + TOKEN_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const base = { client_id: 'connecteur', client_secret: 'secret-client' };
let bearer = '';

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; headers: Headers }> {
  const r = await fetch(sim.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined, headers: r.headers };
}

beforeAll(async () => {
  sim = await startBatisimplySimulator({
    accounts: [
      { username: 'bureau@exemple.fr', password: 'motdepasse' },
      { username: 'off@exemple.fr', password: 'x', disabled: true },
    ],
    clients: [
      { clientId: 'connecteur', clientSecret: 'secret-client' },
      { clientId: 'service', clientSecret: 's', serviceAccount: true },
    ],
    seed: {
      users: [{ id: USER, login: 'jdupont', firstName: 'Jean', lastName: 'Dupont' }],
      projects: [{ id: 1, projectCode: '00000001', projectName: 'Maison Dupont' }],
      timeSlots: [
        { id: 10, startDate: '2026-01-05T07:00:00Z', totalTimeMinutes: 480, userId: USER, projectId: 1, managementStatus: 'VALIDATED' },
        { id: 11, startDate: '2026-01-06T23:00:00Z', totalTimeMinutes: 120, userId: USER, projectId: 1, managementStatus: 'PENDING' },
      ],
    },
  });
  bearer = String((await token({ ...base, grant_type: 'password', username: 'bureau@exemple.fr', password: 'motdepasse' })).body.access_token);
});
afterAll(async () => {
  await sim.close();
});

describe('simulated Keycloak', () => {
  it('answers the Keycloak token shape', async () => {
    const r = await token({ ...base, grant_type: 'password', username: 'bureau@exemple.fr', password: 'motdepasse' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ expires_in: 300, refresh_expires_in: 1800, token_type: 'Bearer' });
    expect(typeof r.body.refresh_token).toBe('string');
    const again = await token({ ...base, grant_type: 'refresh_token', refresh_token: String(r.body.refresh_token) });
    expect(again.status).toBe(200);
    // refresh tokens rotate: the old one is spent
    expect((await token({ ...base, grant_type: 'refresh_token', refresh_token: String(r.body.refresh_token) })).body).toEqual({
      error: 'invalid_grant',
      error_description: 'Session not active',
    });
  });

  it('answers Keycloak errors', async () => {
    expect(await token({ ...base, grant_type: 'password', username: 'bureau@exemple.fr', password: 'non' })).toEqual({
      status: 401,
      body: { error: 'invalid_grant', error_description: 'Invalid user credentials' },
    });
    expect((await token({ ...base, client_secret: 'bad', grant_type: 'password', username: 'bureau@exemple.fr', password: 'motdepasse' })).body.error).toBe(
      'invalid_client',
    );
    expect(await token({ ...base, grant_type: 'password', username: 'off@exemple.fr', password: 'x' })).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Account disabled' },
    });
    expect((await token({ ...base, grant_type: 'magic' })).body.error).toBe('unsupported_grant_type');
    expect((await token({ ...base, grant_type: 'client_credentials' })).body.error).toBe('unauthorized_client');
    const cc = await token({ client_id: 'service', client_secret: 's', grant_type: 'client_credentials' });
    expect(cc.status).toBe(200);
    expect(cc.body.refresh_token).toBeUndefined();
  });
});

describe('simulated API', () => {
  it('rejects requests without a valid bearer token with 401', async () => {
    const r = await fetch(`${sim.apiUrl}/api/project`);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('creates with an id, refuses duplicates and ids, updates with the full entity', async () => {
    const c = await api('POST', '/api/project', { projectCode: 'NEW00001', projectName: 'Neuf' });
    expect(c.status).toBe(201);
    const id = (c.json as { id: number }).id;
    expect(c.headers.get('location')).toBe(`/api/project/${id}`);
    const dup = await api('POST', '/api/project', { projectCode: 'NEW00001', projectName: 'Encore' });
    expect(dup.status).toBe(400);
    expect(dup.json).toMatchObject({ errorKey: 'projectcodeexists', entityName: 'project' });
    expect((await api('POST', '/api/project', { id: 5, projectCode: 'X', projectName: 'Y' })).json).toMatchObject({ errorKey: 'idexists' });
    expect((await api('PUT', `/api/project/${id}`, { id: id + 1, projectCode: 'NEW00001', projectName: 'Z' })).json).toMatchObject({ errorKey: 'idinvalid' });
    expect((await api('PUT', `/api/project/${id}`, { projectCode: 'NEW00001', projectName: 'Z' })).json).toMatchObject({ errorKey: 'idnull' });
    const put = await api('PUT', `/api/project/${id}`, { id, projectCode: 'NEW00001', projectName: 'Renommé' });
    expect(put.status).toBe(200);
    expect(sim.state.projects.get(id)?.projectName).toBe('Renommé');
    expect((await api('GET', '/api/project/999')).status).toBe(404);
  });

  it('keeps isFinished / isArchived as booleans (type mismatch otherwise); the phones list only open projects', async () => {
    const c = await api('POST', '/api/project', { projectCode: 'FIN00001', projectName: 'À finir' });
    const id = (c.json as { id: number }).id;
    const bad = await api('PUT', `/api/project/${id}`, { id, projectCode: 'FIN00001', projectName: 'À finir', isFinished: 'oui' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ fieldErrors: [{ field: 'isFinished', message: 'TypeMismatch' }] });
    expect(sim.state.projectsOnPhones().some((p) => p.id === id)).toBe(true);
    const done = await api('PUT', `/api/project/${id}`, { id, projectCode: 'FIN00001', projectName: 'À finir', isFinished: true, isArchived: false });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ isFinished: true, isArchived: false });
    expect(sim.state.projectsOnPhones().some((p) => p.id === id)).toBe(false);
  });

  it('serves time slots overlapping the window; editSlot and deleteSlot change what is served', async () => {
    const win = '/api/timeSlotManagement/allUsers?startDate=2026-01-06T00:00:00Z&endDate=2026-01-06T12:00:00Z';
    expect((await api('GET', win)).json).toEqual([]);
    expect((await api('GET', '/api/timeSlotManagement/allUsers?startDate=2026-01-07T00:00:00Z&endDate=2026-01-08T00:00:00Z')).json).toEqual([
      expect.objectContaining({ id: 11, user: expect.objectContaining({ id: USER }), project: expect.objectContaining({ id: 1, projectCode: '00000001' }) }),
    ]);
    sim.editSlot(10, { day: '2026-01-06', totalTimeMinutes: 240, managementStatus: 'REJECTED' });
    expect((await api('GET', win)).json).toEqual([
      expect.objectContaining({ id: 10, startDate: '2026-01-06T07:00:00.000Z', endDate: '2026-01-06T11:00:00.000Z', totalTimeMinutes: 240, managementStatus: 'REJECTED' }),
    ]);
    sim.deleteSlot(10);
    expect((await api('GET', win)).json).toEqual([]);
    expect((await api('GET', '/api/timeSlotManagement/allUsers')).status).toBe(400);
  });

  it('pages like JHipster (X-Total-Count) and can answer in an envelope', async () => {
    const r = await api('GET', '/api/users?page=0&size=1');
    expect(r.headers.get('x-total-count')).toBe('1');
    sim.config.listShape.users = 'content';
    expect((await api('GET', '/api/users?page=0&size=1')).json).toMatchObject({ content: [expect.objectContaining({ id: USER })], totalElements: 1 });
    sim.config.listShape.users = 'array';
  });
});
