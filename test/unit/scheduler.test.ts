import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/shared/errors.js';
import { settingsSchema } from '../../src/shared/settings.js';
import { Scheduler, activePause, pauseEnd, type Timers } from '../../src/main/services/scheduler/scheduler.js';
import type { RunSummary } from '../../src/main/services/sync/engine.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';

function fakeTimers() {
  let now = Date.parse('2026-07-15T12:00:00Z');
  let q: { at: number; fn: () => void; id: number }[] = [];
  let id = 0;
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      q.push({ at: now + ms, fn, id: ++id });
      return id;
    },
    clearTimeout: (h) => {
      q = q.filter((x) => x.id !== h);
    },
  };
  return {
    timers,
    clock: { now: () => new Date(now) },
    pending: () => q.length,
    /** Fires the next timer, advancing the clock. */
    async fire() {
      q.sort((a, b) => a.at - b.at);
      const t = q.shift();
      if (!t) throw new Error('no timer');
      now = t.at;
      t.fn();
      await new Promise((r) => setTimeout(r, 0));
      return t.at;
    },
  };
}

const summary = (status: RunSummary['status']): RunSummary => ({
  runId: 'r', flow: 'push', machine: 'PC', status, startedAt: '', endedAt: '',
  counts: { created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0, conflicts: 0, writes: 0 }, errorCode: null, message: status,
});

describe('scheduler', () => {
  it('runs every interval, exposes the next run time, retries failures up to the setting, checks the licence', async () => {
    const settings = settingsSchema.parse({ schedule: { enabled: true, intervalSeconds: 300, retries: 2 } });
    const ft = fakeTimers();
    const results: string[] = [];
    let licenceChecks = 0;
    const engine = { running: [] as never[], run: async () => [summary(results.length < 3 ? 'failed' : 'succeeded')] };
    const s = new Scheduler({
      engine, settings: () => settings, clock: ft.clock, timers: ft.timers, logger: memoryLogger(),
      licence: { assertSyncAllowed: async () => void licenceChecks++ },
      onResult: (r) => results.push(r.summaries[0]!.status), retryDelayMs: () => 10_000,
    });
    s.start();
    const t0 = ft.clock.now().getTime();
    expect(s.nextRunAt?.getTime()).toBe(t0 + 300_000);
    expect(await ft.fire()).toBe(t0 + 300_000); // attempt 1 fails
    expect(s.nextRunAt?.getTime()).toBe(t0 + 310_000);
    await ft.fire(); // retry 1 fails
    await ft.fire(); // retry 2 fails: retries exhausted, back to the interval
    expect(s.nextRunAt?.getTime()).toBe(t0 + 320_000 + 300_000);
    await ft.fire();
    expect(results).toEqual(['failed', 'failed', 'failed', 'succeeded']);
    expect(licenceChecks).toBe(4);
    s.stop();
    expect(ft.pending()).toBe(0);
  });

  it('skips a tick while a run is active, and does not retry a refused licence', async () => {
    const settings = settingsSchema.parse({ schedule: { enabled: true } });
    const ft = fakeTimers();
    let runs = 0;
    const engine = { running: ['hours'] as ('push' | 'hours')[], run: async () => { runs++; return [summary('succeeded')]; } };
    let refuse = false;
    const s = new Scheduler({
      engine, settings: () => settings, clock: ft.clock, timers: ft.timers, logger: memoryLogger(),
      licence: { assertSyncAllowed: async () => { if (refuse) throw new AppError('LICENSE_EXPIRED', 'Licence expirée.'); } },
    });
    s.start();
    await ft.fire();
    expect(runs).toBe(0);
    expect(s.state().lastStatus).toBe('skipped');
    engine.running = [];
    refuse = true;
    const before = ft.clock.now().getTime();
    await ft.fire();
    expect(runs).toBe(0);
    expect(s.state()).toMatchObject({ lastStatus: 'failed', lastMessage: 'Licence expirée.' });
    expect(s.nextRunAt!.getTime() - before).toBe(600_000);
    s.stop();
  });

  it('does nothing when the schedule is disabled', () => {
    const ft = fakeTimers();
    const s = new Scheduler({ engine: { running: [], run: async () => [] }, settings: () => settingsSchema.parse({}), clock: ft.clock, timers: ft.timers, logger: memoryLogger() });
    s.start();
    expect(s.nextRunAt).toBeNull();
    expect(ft.pending()).toBe(0);
  });

  it('pause presets: in 1 h, in 4 h, tomorrow at 7:00 local time', () => {
    const now = new Date(2026, 2, 10, 22, 15, 0);
    expect(pauseEnd('1h', now).getTime() - now.getTime()).toBe(3_600_000);
    expect(pauseEnd('4h', now).getTime() - now.getTime()).toBe(4 * 3_600_000);
    const t = pauseEnd('tomorrow', now);
    expect([t.getFullYear(), t.getMonth(), t.getDate(), t.getHours(), t.getMinutes()]).toEqual([2026, 2, 11, 7, 0]);
    const s = settingsSchema.parse({ schedule: { pausedUntil: new Date(now.getTime() + 1000).toISOString() } });
    expect(activePause(s, now)).not.toBeNull();
    expect(activePause(s, new Date(now.getTime() + 1000))).toBeNull();
    expect(activePause(settingsSchema.parse({ schedule: { pausedUntil: 'pas une date' } }), now)).toBeNull();
  });

  it('paused: no scheduled run before the end of the pause, then every interval again; « Reprendre » plans from now', async () => {
    const ft = fakeTimers();
    const t0 = ft.clock.now().getTime();
    const settings = settingsSchema.parse({ schedule: { enabled: true, intervalSeconds: 300, pausedUntil: new Date(t0 + 4 * 3_600_000).toISOString() } });
    let runs = 0;
    const s = new Scheduler({ engine: { running: [], run: async () => (runs++, [summary('succeeded')]) }, settings: () => settings, clock: ft.clock, timers: ft.timers, logger: memoryLogger() });
    s.start();
    expect(s.nextRunAt?.getTime()).toBe(t0 + 4 * 3_600_000);
    expect(s.state().pausedUntil).toBe(new Date(t0 + 4 * 3_600_000).toISOString());
    expect(await ft.fire()).toBe(t0 + 4 * 3_600_000);
    expect(runs).toBe(1);
    expect(s.state().pausedUntil).toBeNull();
    expect(s.nextRunAt?.getTime()).toBe(t0 + 4 * 3_600_000 + 300_000);
    // Paused again, then resumed: the next run is one interval after the resume.
    settings.schedule.pausedUntil = new Date(ft.clock.now().getTime() + 3_600_000).toISOString();
    s.reschedule();
    expect(s.nextRunAt?.getTime()).toBe(ft.clock.now().getTime() + 3_600_000);
    settings.schedule.pausedUntil = null;
    s.reschedule();
    expect(s.nextRunAt?.getTime()).toBe(ft.clock.now().getTime() + 300_000);
    s.stop();
  });

  it('a pause kept in the settings holds across a restart (a new scheduler on the same settings)', async () => {
    const ft = fakeTimers();
    const until = ft.clock.now().getTime() + 3_600_000;
    const settings = settingsSchema.parse({ schedule: { enabled: true, intervalSeconds: 300, pausedUntil: new Date(until).toISOString() } });
    let runs = 0;
    const make = () => new Scheduler({ engine: { running: [], run: async () => (runs++, [summary('succeeded')]) }, settings: () => settings, clock: ft.clock, timers: ft.timers, logger: memoryLogger() });
    const before = make();
    before.start();
    before.stop();
    const after = make();
    after.start();
    expect(after.nextRunAt?.getTime()).toBe(until);
    // A tick that fires early (a timer of the previous process, a manual tick) is skipped while paused.
    await after.tick();
    expect(runs).toBe(0);
    expect(after.nextRunAt?.getTime()).toBe(until);
    after.stop();
  });
});
