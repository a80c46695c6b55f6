/** The BatiSimply client against the simulator over real sockets: tokens, projects, time slots, users, quotes. */
import { describe, expect, it } from 'vitest';
import { generateBatisimplySeed, startBatisimplySimulator, type BatisimplySimulator } from '../support/batisimply/index.js';
import { useBatisimplySimulator } from '../support/batisimply/harness.js';
import { batisimplyUsersFor, generateBatigestCompany } from '../support/datasets/batigest.js';

let sim!: BatisimplySimulator;
const seed = generateBatisimplySeed({ seed: 7, userCount: 4, projects: 45, days: 20 });
const { client, clientFor } = useBatisimplySimulator({ seed }, (s) => (sim = s));

describe('BatiSimply client — core', () => {
  it('gets a token with the password grant and lists every project across pages', async () => {
    const { client: c } = client({}, { pageSize: 10 });
    const projects = await c.listProjects();
    expect(projects).toHaveLength(45);
    expect(new Set(projects.map((p) => p.id)).size).toBe(45);
    expect(projects[0]).toMatchObject({ id: '1001', projectCode: seed.projects[0]?.projectCode });
    expect(sim.log.tokenRequests('password')).toHaveLength(1);
    expect(sim.log.count('GET /api/project')).toBe(5);
    expect(c.apiStats()).toMatchObject({ apiCalls: 5, tokenRequests: 1 });
  });

  it('gets, finds by code, creates and updates projects (PUT keeps fields it does not manage)', async () => {
    const { client: c } = client();
    const p = await c.getProject('1003');
    expect(p?.projectCode).toBe(seed.projects[2]?.projectCode);
    expect(await c.getProject('999999')).toBeNull();

    const created = await c.createProject({ projectCode: '00009999', projectName: 'Rénovation école', hoursSold: 120, customerName: 'Mairie' });
    expect(created.id).toMatch(/^\d+$/);
    expect(sim.state.findProjectByCode('00009999')?.projectName).toBe('Rénovation école');

    const found = await c.findProjectByCode('00009999');
    expect(found?.id).toBe(created.id);
    expect(await c.findProjectByCode('NOPE')).toBeNull();

    sim.state.projects.get(Number(created.id))!.comment = 'saisi dans BatiSimply';
    c.clearCache();
    const updated = await c.updateProject(created.id, { projectCode: '00009999', projectName: 'Rénovation école (bis)', hoursSold: 150 });
    expect(updated.hoursSold).toBe(150);
    const put = sim.log.of('PUT /api/project/{id}')[0];
    expect(put?.body).toMatchObject({ id: Number(created.id), projectName: 'Rénovation école (bis)', comment: 'saisi dans BatiSimply' });
    expect(sim.state.projects.get(Number(created.id))).toMatchObject({ hoursSold: 150, customerName: 'Mairie', comment: 'saisi dans BatiSimply' });
  });

  it('lists time slots of a window with every management status and their users', async () => {
    const { client: c } = client();
    const start = new Date(Date.UTC(2026, 0, 12));
    const end = new Date(Date.UTC(2026, 0, 24));
    const slots = await c.listTimeSlots({ start, end });
    const expected = sim.state.slotsInWindow(start.getTime(), end.getTime());
    expect(slots.map((s) => s.id).sort()).toEqual(expected.map((s) => String(s.id)).sort());
    expect(new Set(slots.map((s) => s.managementStatus))).toEqual(new Set(['VALIDATED', 'PENDING', 'REJECTED', 'DRAFT', 'SUBMITTED']));
    const q = sim.log.of('GET /api/timeSlotManagement/allUsers')[0]?.query;
    expect(q).toMatchObject({ startDate: '2026-01-12T00:00:00Z', endDate: '2026-01-24T00:00:00Z' });
  });

  it('splits a long window into chunks and returns each slot once', async () => {
    const { client: c } = client({}, { timeSlotChunkDays: 3 });
    const start = new Date(Date.UTC(2026, 0, 1));
    const end = new Date(Date.UTC(2026, 1, 1));
    const slots = await c.listTimeSlots({ start, end });
    expect(sim.log.count('GET /api/timeSlotManagement/allUsers')).toBe(11);
    expect(slots).toHaveLength(sim.state.slotsInWindow(start.getTime(), end.getTime()).length);
    expect(new Set(slots.map((s) => s.id)).size).toBe(slots.length);
  });

  it('lists users and posts a quote', async () => {
    const { client: c } = client();
    const users = await c.listUsers();
    expect(users.map((u) => u.id).sort()).toEqual(seed.users.map((u) => u.id).sort());
    const q = await c.createQuote({ quoteNumber: 'D0001234', customerName: 'Dupont', hoursSold: 12 });
    expect(q.id).toMatch(/^\d+$/);
    expect(sim.quotes.at(-1)).toMatchObject({ quoteNumber: 'D0001234' });
  });

  it('leaves out projects without a code (created by hand in BatiSimply) instead of failing the list', async () => {
    const { client: c, logger } = client();
    const before = (await c.listProjects()).length;
    sim.state.addProject({ projectCode: null as unknown as string, projectName: 'Saisi à la main' });
    sim.state.addProject({ projectCode: '', projectName: null as unknown as string });
    const after = await c.listProjects();
    expect(after).toHaveLength(before);
    expect(after.every((p) => typeof p.projectCode === 'string' && p.projectCode !== '')).toBe(true);
    expect(logger.text()).toMatch(/sans code ignorés.*"count":2/);
    sim.config.supportsCodeFilter = false;
    c.clearCache();
    expect((await c.findProjectByCode(seed.projects[4]!.projectCode))?.id).toBe('1005');
    sim.config.supportsCodeFilter = true;
  });

  it('accepts numeric user ids (JHipster without Keycloak) as strings', async () => {
    const { client: c } = client();
    sim.faults.add({ route: 'GET /api/users', body: [{ id: 12, login: 'chef', firstName: 'Chef', lastName: 'Équipe', activated: true }] });
    expect(await c.listUsers()).toEqual([expect.objectContaining({ id: '12', login: 'chef' })]);
  });

  it('uses the client_credentials grant when configured', async () => {
    const { client: c } = client({ grantType: 'client_credentials', username: '', password: '' });
    expect(await c.listUsers()).toHaveLength(4);
    expect(sim.log.tokenRequests('client_credentials')).toHaveLength(1);
  });
});

describe('BatiSimply simulator seeded from a Batigest dataset', () => {
  it('serves the users of the salariés and projects with the chantier codes', async () => {
    const company = generateBatigestCompany({ seed: 4, chantiers: 6, devis: 0, salaries: 3, suiviMo: 0, variant: 'v1', withCodebs: true });
    const s2 = await startBatisimplySimulator({
      seed: generateBatisimplySeed({ users: batisimplyUsersFor(company), projectCodes: company.chantiers.map((c) => c.code), days: 5 }),
    });
    try {
      const t = clientFor(s2);
      expect((await t.client.listUsers()).map((u) => u.id).sort()).toEqual(company.salaries.map((x) => x.batisimplyUserId).sort());
      expect((await t.client.listProjects()).map((p) => p.projectCode)).toEqual(company.chantiers.map((c) => c.code));
      const slots = await t.client.listTimeSlots({ start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-02-01T00:00:00Z') });
      expect(slots.length).toBeGreaterThan(0);
      expect(slots.every((x) => company.chantiers.some((c) => c.code === x.project?.projectCode))).toBe(true);
    } finally {
      await s2.close();
    }
  });
});
