/**
 * Import agent flow (seed 003): exports of the exports API → Batigest's import folder, exactly once. The executor:
 * lists the pending exports, records each one in the buffer, then takes each export through its steps (plan.ts):
 * download aside and verify (size, SHA-256), stage in ToImport, hand over into the import folder (reserved part,
 * intent, copy, rename), wait until Batigest has taken the file (or the timeout: taken back), then mark-synced and
 * Archive, or mark-error and Errors. Every step is recorded in the buffer after its file operation, so a run killed
 * anywhere is resumed by the next one (docs/crash-safety.md).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { AppError, toAppError } from '../../../../../shared/errors.js';
import { ImportStore, type ImportRow, type ImportState } from '../../../buffer/imports.js';
import type { ExportsPort, PendingExport } from '../../../exports/client.js';
import type { ImportsPorts } from '../../../ports.js';
import type { FlowContext, FlowModule, FlowOutcome } from '../../flow.js';
import type { ImportCheckpoint } from '../../model.js';
import { realSleep, throwIfCancelled } from '../../retry.js';
import { DayLog } from './daylog.js';
import { fsAppError, moveAtomic, WORK_FOLDERS, type WorkFolder } from './files.js';
import { inside, partName } from './names.js';
import { afterHanding, afterWithdrawing, planListing, timedOut, verifyDownload } from './plan.js';
import { importsText } from '../../journal-text.js';

export const importsFlow: FlowModule = {
  name: 'imports',
  label: (sw) => importsText.flowLabel(sw),
  inAll: false,
  run: runImports,
};

/** One cycle's working set. */
export interface Cycle {
  ctx: FlowContext;
  p: ImportsPorts;
  api: ExportsPort;
  store: ImportStore;
  dirs: Record<WorkFolder, string> & { work: string; import: string };
  agentId: string;
  log: DayLog;
  timeoutS: number;
  pollMs: number;
  /** Exports that need a later cycle (transient failure): the run is partial. */
  left: number;
}

/** Errors that stop the whole cycle (the next exports would fail the same way). */
const FATAL = new Set(['CANCELLED', 'NOT_CONFIGURED', 'EXPORTS_AUTH_FAILED', 'EXPORTS_UNREACHABLE', 'DISK_FULL', 'IMPORT_FOLDER_UNAVAILABLE', 'BUFFER_UNREACHABLE', 'BUFFER_ERROR', 'BUFFER_LOCKED', 'INTERNAL']);

async function runImports(ctx: FlowContext): Promise<FlowOutcome> {
  const p = ctx.ports.imports;
  if (!p) throw new AppError('INTERNAL', importsText.disabled, { detail: 'imports ports not wired' });
  const s = ctx.settings.imports;
  if (!s.enabled) throw new AppError('NOT_CONFIGURED', importsText.disabled);
  if (s.apiUrl.trim() === '') throw new AppError('NOT_CONFIGURED', importsText.noApi);
  if (s.batigestImportPath.trim() === '') throw new AppError('NOT_CONFIGURED', importsText.noImportFolder(ctx.sw));
  const api = p.exports(ctx.settings);
  try {
    const c = await prepare(ctx, p, api);
    try {
      return await cycle(c);
    } catch (e) {
      await c.log.write('ERROR', importsText.log.stopped(toAppError(e).message));
      throw e;
    }
  } finally {
    await api.close();
  }
}

async function prepare(ctx: FlowContext, p: ImportsPorts, api: ExportsPort): Promise<Cycle> {
  const s = ctx.settings.imports;
  const work = path.resolve(s.workDir.trim() || p.defaultWorkDir);
  const dirs = { work, import: path.resolve(s.batigestImportPath.trim()) } as Cycle['dirs'];
  for (const f of WORK_FOLDERS) dirs[f] = path.join(work, f);
  try {
    for (const f of WORK_FOLDERS) await p.fs.mkdir(dirs[f]);
  } catch (e) {
    throw fsAppError(e, { folder: work, setting: importsText.workSetting }) ?? e;
  }
  const log = new DayLog(p.fs, dirs.Logs, () => ctx.ports.clock.now(), [s.apiKey]);
  await log.rotate();
  const agentId = s.agentId.trim() || p.defaultAgentId;
  return { ctx, p, api, store: new ImportStore(ctx.ports.buffer.db), dirs, agentId, log, timeoutS: s.importTimeoutSeconds, pollMs: p.pollMs ?? 1000, left: 0 };
}

async function cycle(c: Cycle): Promise<FlowOutcome> {
  const { ctx } = c;
  await c.log.write('INFO', importsText.log.started(c.agentId));
  await ctx.progress('list', importsText.listing, 0, null, null);
  const listed = await c.api.listPending({
    limit: ctx.settings.imports.pollLimit,
    agentId: c.agentId,
    signal: ctx.signal,
    onInvalid: (r) => reject(c, r.id ?? '?', r.reason),
  });
  await ctx.checkpoint('imports:listed');
  await record(c, listed);
  const open = await c.store.loadOpen(c.agentId);
  // Local steps first (download, stage), and what only needs the API (confirmations left by a killed run).
  for (const [i, r] of open.entries()) {
    throwIfCancelled(ctx.signal);
    await ctx.progress('download', importsText.downloading, i, open.length, r.export_id);
    await guarded(c, r, () => localSteps(c, r));
    if (r.state === 'consumed') await guarded(c, r, () => confirm(c, r));
    if (r.state === 'failing') await guarded(c, r, () => reportError(c, r));
  }
  await handAll(c, open);
  await watch(c, open.filter((r) => r.state === 'handed'));
  const imported = ctx.counts.created;
  const message = imported + ctx.counts.failed + c.left === 0 && listed.length === 0 ? importsText.nothing : importsText.summary(imported, ctx.counts.failed, c.left);
  await c.log.write('INFO', importsText.log.ended(message));
  return { message, leftUndone: c.left > 0 };
}

/** The listing → the buffer: new exports recorded 'seen', re-listed synced ones acknowledged again, bad ids journaled. */
async function record(c: Cycle, listed: PendingExport[]): Promise<void> {
  const { ctx } = c;
  const known = await c.store.getMany(listed.map((e) => e.id));
  const plan = planListing(listed, known, c.agentId);
  for (const r of plan.refused) reject(c, r.key, r.reason);
  for (const e of plan.fresh) {
    await c.store.upsertSeen(e, c.agentId, ctx.runId, ctx.ports.clock.now());
    await c.log.write('INFO', importsText.log.seen(e.exportId, e.fileName));
    await ctx.checkpoint('imports:after-seen', e.exportId);
  }
  for (const id of plan.reack) {
    try {
      await c.api.markSynced(id, c.agentId, { signal: ctx.signal });
      ctx.counts.unchanged++;
      ctx.journal.push({ recordKey: `import:${id}`, action: 'unchanged', reason: importsText.reacked });
    } catch (e) {
      if (isFatal(e)) throw e;
      c.left++;
      ctx.journal.push({ recordKey: `import:${id}`, action: 'failed', reason: importsText.markFailed(toAppError(e).message) });
    }
  }
}

function reject(c: Cycle, key: string, reason: string): void {
  c.ctx.counts.skipped++;
  c.ctx.journal.push({ recordKey: `import:${key}`, action: 'skipped', reason });
  void c.log.write('WARN', importsText.log.ignored(key, reason));
}

const isFatal = (e: unknown): boolean => FATAL.has(toAppError(e).code);

/** Runs one export's step; a failure of this export only is journaled (tried again next cycle), a fatal one is thrown. */
async function guarded(c: Cycle, r: ImportRow, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (isFatal(e)) throw e;
    const err = toAppError(e);
    c.left++;
    await c.store.noteAttempt(r.export_id, err.message, c.ctx.ports.clock.now());
    c.ctx.journal.push({ recordKey: `import:${r.export_id}`, action: 'failed', reason: importsText.downloadFailed(err.message) });
    await c.log.write('WARN', importsText.log.step(r.export_id, err.message));
    c.ctx.ports.logger.warn('import step failed', { exportId: r.export_id, state: r.state, code: err.code, detail: err.detail });
  }
}

/** Moves `r` to `state` in the buffer (and in memory), then passes the checkpoint. */
export async function setState(c: Cycle, r: ImportRow, state: ImportState, cp: ImportCheckpoint, o: { reason?: string | null; handedAt?: Date } = {}): Promise<void> {
  const now = c.ctx.ports.clock.now();
  await c.store.setState(r.export_id, state, { now, runId: c.ctx.runId, ...o });
  r.state = state;
  if (o.reason !== undefined) r.reason = o.reason;
  if (o.handedAt) r.handed_at = o.handedAt;
  await c.ctx.checkpoint(cp, r.export_id);
}

export const workFile = (c: Cycle, folder: WorkFolder, r: ImportRow): string => inside(c.dirs[folder], r.import_name);
const importFile = (c: Cycle, r: ImportRow): string => inside(c.dirs.import, r.import_name);
const importPart = (c: Cycle, r: ImportRow): string => inside(c.dirs.import, partName(r.import_name));

/** A file operation in the work folder: its failure named for the user (disk full, folder gone). */
async function inWork<T>(c: Cycle, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fsAppError(e, { folder: c.dirs.work, setting: importsText.workSetting }) ?? e;
  }
}

async function inImport<T>(c: Cycle, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fsAppError(e, { folder: c.dirs.import, setting: importsText.importSetting }) ?? e;
  }
}

/** seen → downloaded → staged (a staged file gone from ToImport is downloaded again). */
async function localSteps(c: Cycle, r: ImportRow): Promise<void> {
  const fs = c.p.fs;
  if (r.state === 'staged' && !(await fs.exists(workFile(c, 'ToImport', r)))) r.state = 'seen';
  if (r.state === 'downloaded') {
    const from = workFile(c, 'Downloads', r);
    const to = workFile(c, 'ToImport', r);
    if (await fs.exists(from)) await inWork(c, () => moveAtomic(fs, from, to));
    if (await fs.exists(to)) await setState(c, r, 'staged', 'imports:after-stage');
    else r.state = 'seen';
  }
  if (r.state === 'seen') {
    const failure = await downloadVerified(c, r);
    if (failure) return setState(c, r, 'failing', 'imports:after-download', { reason: importsText.corrupt(failure) });
    await setState(c, r, 'downloaded', 'imports:after-download');
    await inWork(c, () => moveAtomic(fs, workFile(c, 'Downloads', r), workFile(c, 'ToImport', r)));
    await setState(c, r, 'staged', 'imports:after-stage');
  }
}

/**
 * Downloads the file aside (`Downloads/<name>.part`), flushes it, checks size and SHA-256, renames it into place.
 * A cut download or a mismatch is tried again (3 attempts in all); returns the reason of a persistent mismatch.
 */
async function downloadVerified(c: Cycle, r: ImportRow): Promise<string | null> {
  const fs = c.p.fs;
  const target = workFile(c, 'Downloads', r);
  const aside = `${target}.part`;
  let mismatch: string | null = null;
  for (let attempt = 1; attempt <= 3; attempt++) {
    if (attempt > 1) await realSleep(200 * attempt, c.ctx.signal);
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      const w = await inWork(c, () => fs.openWrite(aside));
      try {
        const ref: PendingExport = { id: r.export_id, type: r.doc_type, fileName: r.file_name, size: r.size, checksum: r.checksum, downloadUrl: null };
        await c.api.download(ref, { write: async (chunk) => {
          hash.update(chunk);
          bytes += chunk.byteLength;
          await inWork(c, () => w.write(chunk));
        } }, { signal: c.ctx.signal });
        await inWork(c, () => w.sync());
      } finally {
        await w.close().catch(() => undefined);
      }
    } catch (e) {
      await fs.unlink(aside).catch(() => undefined);
      if (toAppError(e).code !== 'EXPORTS_DOWNLOAD_CUT' || attempt === 3) throw e;
      await c.log.write('WARN', importsText.log.cut(r.export_id));
      continue;
    }
    mismatch = verifyDownload(r, { bytes, sha256: hash.digest('hex') });
    if (mismatch === null) {
      await inWork(c, () => fs.rename(aside, target));
      await inWork(c, () => fs.syncDir(path.dirname(target)));
      await c.log.write('INFO', importsText.log.downloaded(r.export_id, bytes));
      return null;
    }
    await c.log.write('WARN', importsText.log.step(r.export_id, mismatch));
    // The last bad file is kept (it goes to Errors with the export) for whoever looks into it.
    if (attempt === 3) await inWork(c, () => fs.rename(aside, target));
    else await fs.unlink(aside).catch(() => undefined);
  }
  return mismatch;
}

/** staged/handing → handed, for every export ready; the import folder is checked once before the first file. */
async function handAll(c: Cycle, rows: ImportRow[]): Promise<void> {
  const ready = rows.filter((r) => r.state === 'staged' || r.state === 'handing' || r.state === 'withdrawing');
  if (ready.length === 0) return;
  await inImport(c, () => c.p.fs.assertWritableDir(c.dirs.import));
  let done = 0;
  for (const r of ready) {
    throwIfCancelled(c.ctx.signal);
    if (r.state === 'withdrawing') await guarded(c, r, () => resumeWithdrawing(c, r));
    else await guarded(c, r, () => handOver(c, r));
    if (r.state === 'consumed') await guarded(c, r, () => confirm(c, r));
    if (r.state === 'failing') await guarded(c, r, () => reportError(c, r));
    await c.ctx.progress('hand', importsText.handing(c.ctx.sw), ++done, ready.length, r.export_id);
  }
}

/** staged → (reserve the part) → handing → (write the part, rename it to its name) → handed; resumes `handing`. */
async function handOver(c: Cycle, r: ImportRow): Promise<void> {
  const fs = c.p.fs;
  const part = importPart(c, r);
  const final = importFile(c, r);
  if (r.state === 'staged') {
    const w = await inImport(c, () => fs.openWrite(part));
    await inImport(c, async () => {
      try {
        await w.sync();
      } finally {
        await w.close();
      }
    });
    await inImport(c, () => fs.syncDir(c.dirs.import));
    await c.ctx.checkpoint('imports:after-reserve', r.export_id);
    await setState(c, r, 'handing', 'imports:after-intent');
  }
  const step = afterHanding({ final: await fs.exists(final), part: await fs.exists(part) });
  if (step === 'consumed') return setState(c, r, 'consumed', 'imports:after-consumed');
  if (step === 'copy') {
    const content = await inWork(c, () => fs.readFile(workFile(c, 'ToImport', r)));
    await inImport(c, async () => {
      const w = await fs.openWrite(part);
      try {
        await w.write(content);
        await w.sync();
      } finally {
        await w.close();
      }
    });
    await c.ctx.checkpoint('imports:after-copy', r.export_id);
    await c.ctx.confirmLease(); // fencing: the file appears in Batigest's import folder only under our lease
    await inImport(c, () => fs.rename(part, final));
    await inImport(c, () => fs.syncDir(c.dirs.import));
    c.ctx.counts.writes++;
    await c.ctx.checkpoint('imports:after-handover', r.export_id);
  }
  await setState(c, r, 'handed', 'imports:after-handed', { handedAt: r.handed_at ?? c.ctx.ports.clock.now() });
  await c.log.write('INFO', importsText.log.handed(r.export_id, r.import_name));
}

/** Waits until Batigest has taken each handed file (consumed → confirm) or its timeout has passed (withdraw → error). */
async function watch(c: Cycle, handed: ImportRow[]): Promise<void> {
  let pending = handed;
  const total = handed.length;
  while (pending.length > 0) {
    const still: ImportRow[] = [];
    for (const r of pending) {
      if (!(await c.p.fs.exists(importFile(c, r)))) {
        await setState(c, r, 'consumed', 'imports:after-consumed');
        await guarded(c, r, () => confirm(c, r));
      } else if (timedOut(r.handed_at, c.ctx.ports.clock.now(), c.timeoutS)) {
        await guarded(c, r, () => withdraw(c, r));
        if (r.state === 'consumed') await guarded(c, r, () => confirm(c, r));
        if (r.state === 'failing') await guarded(c, r, () => reportError(c, r));
      } else still.push(r);
    }
    pending = still;
    await c.ctx.progress('wait', importsText.waiting(c.ctx.sw), total - pending.length, total, null);
    if (pending.length > 0) await realSleep(c.pollMs, c.ctx.signal);
  }
}

/** handed → withdrawing → (rename the file back to its part) → failing; the file taken meanwhile is consumed. */
async function withdraw(c: Cycle, r: ImportRow): Promise<void> {
  const reason = importsText.timeout(c.ctx.sw, r.import_name, c.timeoutS);
  await setState(c, r, 'withdrawing', 'imports:after-withdraw-intent', { reason });
  await resumeWithdrawing(c, r);
}

async function resumeWithdrawing(c: Cycle, r: ImportRow): Promise<void> {
  const fs = c.p.fs;
  const reason = r.reason ?? importsText.timeout(c.ctx.sw, r.import_name, c.timeoutS);
  let step = afterWithdrawing({ final: await fs.exists(importFile(c, r)), part: await fs.exists(importPart(c, r)) });
  if (step === 'withdraw') {
    try {
      await fs.rename(importFile(c, r), importPart(c, r));
      step = 'withdrawn';
      await c.ctx.checkpoint('imports:after-withdraw', r.export_id);
    } catch (e) {
      // Taken by Batigest between the check and the rename: imported after all.
      if ((e as { code?: string }).code !== 'ENOENT') throw fsAppError(e, { folder: c.dirs.import, setting: importsText.importSetting }) ?? e;
      step = 'consumed';
    }
  }
  if (step === 'consumed') return setState(c, r, 'consumed', 'imports:after-consumed', { reason: null });
  await setState(c, r, 'failing', 'imports:after-withdraw', { reason });
}

/** consumed → mark-synced → Archive → synced. */
async function confirm(c: Cycle, r: ImportRow): Promise<void> {
  const fs = c.p.fs;
  await c.ctx.progress('confirm', importsText.confirming, 0, null, r.export_id);
  await c.ctx.confirmLease(); // fencing: never mark an export synced with a lease another PC took over
  await c.api.markSynced(r.export_id, c.agentId, { signal: c.ctx.signal });
  await c.ctx.checkpoint('imports:after-mark-synced', r.export_id);
  const staged = workFile(c, 'ToImport', r);
  if (await fs.exists(staged)) await inWork(c, () => moveAtomic(fs, staged, workFile(c, 'Archive', r)));
  await c.ctx.checkpoint('imports:after-archive', r.export_id);
  await setState(c, r, 'synced', 'imports:after-synced', { reason: null });
  c.ctx.counts.created++;
  c.ctx.journal.push({ recordKey: `import:${r.export_id}`, action: 'created', reason: importsText.imported(c.ctx.sw, r.import_name) });
  await c.log.write('INFO', importsText.log.synced(r.export_id));
}

/** failing → (take back the part) → mark-error → Errors → errored. */
async function reportError(c: Cycle, r: ImportRow): Promise<void> {
  const fs = c.p.fs;
  const reason = r.reason ?? importsText.checksumMismatch;
  await fs.unlink(importPart(c, r)).catch(() => undefined);
  await c.api.markError(r.export_id, c.agentId, reason, { signal: c.ctx.signal });
  await c.ctx.checkpoint('imports:after-mark-error', r.export_id);
  for (const folder of ['ToImport', 'Downloads'] as const) {
    const f = workFile(c, folder, r);
    if (await fs.exists(f)) await inWork(c, () => moveAtomic(fs, f, workFile(c, 'Errors', r)));
  }
  await setState(c, r, 'errored', 'imports:after-errored', { reason });
  c.ctx.counts.failed++;
  c.ctx.journal.push({ recordKey: `import:${r.export_id}`, action: 'failed', reason });
  await c.log.write('ERROR', importsText.log.errored(r.export_id, reason));
  c.p.onExportError?.({ exportId: r.export_id, fileName: r.import_name, reason });
}
