/** List envelopes and paging: every shape, with and without totals, capped page sizes, servers ignoring paging. */
import { describe, expect, it } from 'vitest';
import { generateBatisimplySeed, type BatisimplySimulator, type ListShape } from '../support/batisimply/index.js';
import { useBatisimplySimulator } from '../support/batisimply/harness.js';

let sim!: BatisimplySimulator;
const seed = generateBatisimplySeed({ seed: 5, userCount: 6, projects: 53, days: 10 });
const WINDOW = { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-02-01T00:00:00Z') };

function ids(xs: Array<{ id: string }>): string[] {
  return xs.map((x) => x.id).sort();
}

const { client } = useBatisimplySimulator({ seed }, (s) => (sim = s), (s) => {
  s.config.listShape = { projects: 'array', users: 'array', timeSlots: 'array' };
  s.config.paged = { projects: true, users: true, timeSlots: false };
  s.config.includeTotals = true;
  s.config.pageSizeMax = 2000;
  s.config.supportsCodeFilter = true;
});

const SHAPES: ListShape[] = ['array', 'elements', 'content', 'items', 'data'];
const allProjectIds = () => [...sim.state.projects.keys()].map(String).sort();

describe('BatiSimply list envelopes', () => {
  for (const shape of SHAPES) {
    for (const totals of [true, false]) {
      it(`${shape} ${totals ? 'with' : 'without'} totals: every project exactly once`, async () => {
        sim.config.listShape = { projects: shape, users: shape, timeSlots: shape };
        sim.config.includeTotals = totals;
        const { client: c } = client({}, { pageSize: 10 });
        const projects = await c.listProjects();
        expect(projects).toHaveLength(53);
        expect(ids(projects)).toEqual(allProjectIds());
        // 6 pages of 10; without a total the client stops at the short last page.
        expect(sim.log.count('GET /api/project')).toBe(6);
        const users = await c.listUsers();
        expect(ids(users)).toEqual(seed.users.map((u) => u.id).sort());
        const slots = await c.listTimeSlots(WINDOW);
        expect(slots.length).toBe(sim.state.slotsInWindow(WINDOW.start.getTime(), WINDOW.end.getTime()).length);
      });
    }
  }
});

describe('BatiSimply paging', () => {
  it('a page size capped by the server (7 < 10 asked) still collects every item once — with totals', async () => {
    sim.config.pageSizeMax = 7;
    const { client: c } = client({}, { pageSize: 10 });
    const projects = await c.listProjects();
    expect(ids(projects)).toEqual(allProjectIds());
    expect(sim.log.count('GET /api/project')).toBe(Math.ceil(53 / 7));
  });

  it('a page size capped by the server, without totals', async () => {
    sim.config.pageSizeMax = 7;
    sim.config.includeTotals = false;
    sim.config.listShape.projects = 'content';
    const { client: c } = client({}, { pageSize: 10 });
    const projects = await c.listProjects();
    expect(ids(projects)).toEqual(allProjectIds());
  });

  it('an exact multiple of the page size, without totals, ends on an empty page', async () => {
    sim.config.includeTotals = false;
    const { client: c } = client({}, { pageSize: 53 });
    expect(await c.listProjects()).toHaveLength(53);
    expect(sim.log.of('GET /api/project').map((e) => e.query.page)).toEqual(['0', '1']);
  });

  it('a server that ignores paging answers all at once: one call', async () => {
    sim.config.paged.projects = false;
    const { client: c } = client({}, { pageSize: 10 });
    expect(await c.listProjects()).toHaveLength(53);
    expect(sim.log.count('GET /api/project')).toBe(1);
  });

  it('a server that ignores paging and has fewer items than a page: stops on the repeated page', async () => {
    sim.config.paged.users = false;
    sim.config.includeTotals = false;
    const { client: c } = client({}, { pageSize: 10 });
    expect(await c.listUsers()).toHaveLength(6);
    expect(sim.log.count('GET /api/users')).toBe(2);
  });

  it('paged time slots are all collected', async () => {
    sim.config.paged.timeSlots = true;
    sim.config.listShape.timeSlots = 'elements';
    const { client: c } = client({}, { pageSize: 4, timeSlotChunkDays: 400 });
    const slots = await c.listTimeSlots(WINDOW);
    const expected = sim.state.slotsInWindow(WINDOW.start.getTime(), WINDOW.end.getTime()).map((s) => String(s.id)).sort();
    expect(ids(slots)).toEqual(expected);
    expect(sim.log.count('GET /api/timeSlotManagement/allUsers')).toBe(Math.ceil(expected.length / 4));
  });
});

describe('BatiSimply findProjectByCode', () => {
  it('uses the server filter when it works (one small call per code)', async () => {
    const { client: c } = client();
    const code = seed.projects[9]!.projectCode;
    expect((await c.findProjectByCode(code))?.id).toBe('1010');
    expect(await c.findProjectByCode('ABSENT00')).toBeNull();
    expect(sim.log.of('GET /api/project').map((e) => e.query['projectCode.equals'])).toEqual([code, 'ABSENT00']);
  });

  it('falls back to one scan when the server ignores the filter, then answers from the cached index', async () => {
    sim.config.supportsCodeFilter = false;
    const { client: c } = client({}, { pageSize: 100 });
    expect((await c.findProjectByCode(seed.projects[3]!.projectCode))?.id).toBe('1004');
    const calls = sim.log.count('GET /api/project');
    expect(calls).toBe(2); // the filtered try (ignored) + one full page
    expect((await c.findProjectByCode(seed.projects[20]!.projectCode))?.id).toBe('1021');
    expect(await c.findProjectByCode('ABSENT00')).toBeNull();
    expect(sim.log.count('GET /api/project')).toBe(calls);
  });

  it('after listProjects, finds codes from the index without any call; clearCache forgets it', async () => {
    const { client: c } = client();
    await c.listProjects();
    sim.log.clear();
    expect((await c.findProjectByCode(seed.projects[7]!.projectCode))?.id).toBe('1008');
    expect(sim.log.count()).toBe(0);
    c.clearCache();
    await c.findProjectByCode(seed.projects[7]!.projectCode);
    expect(sim.log.count('GET /api/project')).toBe(1);
  });
});
