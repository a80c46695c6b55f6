/**
 * Updates: the decision logic, behind the UpdateBackend interface.
 *
 *  - off while the feed address (settings.updates.feedUrl) is empty: no request is ever made;
 *  - a check soon after the start, then every day (an hour after a failed check);
 *  - a newer version is downloaded in the background, never while a synchronisation runs (the download
 *    waits for the end of the run);
 *  - once downloaded: « Mise à jour prête — installée au prochain redémarrage » (the Electron backend
 *    installs it when the app quits; it never restarts the app by itself, so never during a run).
 *
 * The backends: electron-updater's generic provider in the shell (src/main/shell/electron-updater.ts), and
 * a Node one reading the same latest.yml (node-backend.ts, tested against a local feed server).
 */
import type { UpdateStatus } from '../../../shared/contract.js';
import { toAppError } from '../../../shared/errors.js';
import type { Clock, Logger } from '../ports.js';
import type { Timers } from '../scheduler/scheduler.js';
import { nodeTimers } from '../scheduler/scheduler.js';

export interface UpdateFound {
  version: string;
  releaseDate: string | null;
}

export interface UpdateBackend {
  /** Reads the feed (the folder holding latest.yml): the newer version it offers, or null. */
  check(feedUrl: string, currentVersion: string): Promise<UpdateFound | null>;
  /** Downloads and verifies the version the last check found; resolves once it is ready to install. */
  download(): Promise<void>;
}

export type UpdatePhase = UpdateStatus['state'];

export interface UpdateFacts {
  feedUrl: string;
  phase: UpdatePhase;
  /** A synchronisation is running in this app. */
  busy: boolean;
  now: number;
  nextCheckAt: number | null;
}

export type UpdateAction = 'none' | 'check' | 'download' | 'defer';

/** What to do now. Pure. */
export function decideUpdate(f: UpdateFacts): UpdateAction {
  if (!f.feedUrl.trim()) return 'none';
  if (f.phase === 'checking' || f.phase === 'downloading' || f.phase === 'ready' || f.phase === 'unsupported') return 'none';
  if (f.phase === 'available' || f.phase === 'deferred') return f.busy ? 'defer' : 'download';
  if (f.nextCheckAt === null || f.now >= f.nextCheckAt) return 'check';
  return 'none';
}

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface UpdateServiceDeps {
  /** null: this host cannot update itself (web bridge, CLI). */
  backend: UpdateBackend | null;
  feedUrl: () => string;
  currentVersion: string;
  clock: Clock;
  logger: Logger;
  timers?: Timers;
  /** A synchronisation runs: downloads wait. */
  isBusy: () => boolean;
  onStatus?: (s: UpdateStatus) => void;
  /** Delay of the first check after the start (default 1 min: the app settles first). */
  firstCheckDelayMs?: number;
  checkEveryMs?: number;
  retryAfterErrorMs?: number;
}

const fmt = (d: Date) => d.toLocaleString('fr-FR', { dateStyle: 'short', timeStyle: 'short' });

export class UpdateService {
  private phase: UpdatePhase;
  private available: UpdateFound | null = null;
  private lastCheckAt: Date | null = null;
  private nextCheckAt: Date | null = null;
  private error: string | null = null;
  private timer: unknown = null;
  private started = false;
  private working: Promise<void> | null = null;
  private readonly timers: Timers;
  private readonly log: Logger;

  constructor(private readonly d: UpdateServiceDeps) {
    this.timers = d.timers ?? nodeTimers;
    this.log = d.logger.child({ service: 'updates' });
    this.phase = d.backend ? 'idle' : 'unsupported';
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    if (!this.d.backend) return;
    this.nextCheckAt = new Date(this.d.clock.now().getTime() + (this.d.firstCheckDelayMs ?? 60_000));
    this.publish();
    this.plan();
  }

  stop(): void {
    this.started = false;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  status(): UpdateStatus {
    const feed = this.d.feedUrl().trim();
    const state: UpdatePhase = this.phase === 'unsupported' ? 'unsupported' : !feed && this.phase !== 'ready' ? 'disabled' : this.phase;
    return {
      state,
      currentVersion: this.d.currentVersion,
      availableVersion: this.available?.version ?? null,
      lastCheckAt: this.lastCheckAt?.toISOString() ?? null,
      nextCheckAt: state === 'disabled' || state === 'unsupported' || state === 'ready' ? null : (this.nextCheckAt?.toISOString() ?? null),
      message: this.message(state),
    };
  }

  /** « Rechercher maintenant »: a check now (then the download if something newer is found). */
  async checkNow(): Promise<UpdateStatus> {
    if (this.phase === 'error' || this.phase === 'up_to_date' || this.phase === 'idle') this.nextCheckAt = null;
    await this.evaluate();
    return this.status();
  }

  /** Re-evaluates now (a run ended: a deferred download may start). */
  poke(): void {
    void this.evaluate();
  }

  /** The feed address changed: forget what the old feed said and check the new one now. */
  reconfigure(): void {
    if (this.phase === 'unsupported' || this.phase === 'ready' || this.phase === 'downloading' || this.phase === 'checking') {
      this.poke();
      return;
    }
    this.phase = 'idle';
    this.available = null;
    this.error = null;
    this.nextCheckAt = null;
    this.poke();
  }

  private message(state: UpdatePhase): string {
    const v = this.available?.version ?? '';
    const next = this.nextCheckAt ? ` Prochaine vérification : ${fmt(this.nextCheckAt)}.` : '';
    switch (state) {
      case 'unsupported':
        return "Les mises à jour automatiques sont faites par l'application installée sur le poste.";
      case 'disabled':
        return "Mises à jour automatiques désactivées : aucune adresse n'est renseignée.";
      case 'idle':
        return `Recherche de mise à jour prévue.${next}`;
      case 'checking':
        return "Recherche d'une mise à jour…";
      case 'up_to_date':
        return `Le connecteur est à jour (version ${this.d.currentVersion}).${next}`;
      case 'available':
        return `Version ${v} disponible : téléchargement en arrière-plan.`;
      case 'downloading':
        return `Téléchargement de la version ${v}…`;
      case 'deferred':
        return `Version ${v} disponible : elle sera téléchargée à la fin de la synchronisation en cours.`;
      case 'ready':
        return `Mise à jour prête — installée au prochain redémarrage (version ${v}).`;
      case 'error':
        return `${this.error ?? 'La recherche de mise à jour a échoué.'} Nouvel essai${this.nextCheckAt ? ` le ${fmt(this.nextCheckAt)}` : ' plus tard'}.`;
    }
  }

  private publish(): void {
    this.d.onStatus?.(this.status());
  }

  private plan(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    if (!this.started || !this.d.backend) return;
    const now = this.d.clock.now().getTime();
    // Waiting for a run to end is signalled by poke(); otherwise wake up at the next check.
    const at = this.nextCheckAt?.getTime() ?? now;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      void this.evaluate();
    }, Math.max(1000, at - now));
  }

  private evaluate(): Promise<void> {
    if (this.working) return this.working;
    this.working = this.step().finally(() => {
      this.working = null;
      this.plan();
    });
    return this.working;
  }

  private async step(): Promise<void> {
    const backend = this.d.backend;
    if (!backend) return;
    const feedUrl = this.d.feedUrl().trim();
    const action = decideUpdate({ feedUrl, phase: this.phase, busy: this.d.isBusy(), now: this.d.clock.now().getTime(), nextCheckAt: this.nextCheckAt?.getTime() ?? null });
    if (action === 'none') {
      if (!feedUrl) this.publish();
      return;
    }
    if (action === 'defer') {
      if (this.phase !== 'deferred') {
        this.phase = 'deferred';
        this.log.info('update download waits for the end of the running sync', { version: this.available?.version });
        this.publish();
      }
      return;
    }
    if (action === 'check') {
      this.phase = 'checking';
      this.publish();
      try {
        const found = await backend.check(feedUrl, this.d.currentVersion);
        this.lastCheckAt = this.d.clock.now();
        this.nextCheckAt = new Date(this.lastCheckAt.getTime() + (this.d.checkEveryMs ?? DAY_MS));
        this.error = null;
        this.available = found;
        this.phase = found ? 'available' : 'up_to_date';
        this.log.info('update check done', { available: found?.version ?? null });
      } catch (e) {
        this.fail(e, 'check');
        return;
      }
      this.publish();
      if (this.phase !== 'available') return;
      if (this.d.isBusy()) {
        this.phase = 'deferred';
        this.publish();
        return;
      }
    }
    this.phase = 'downloading';
    this.publish();
    try {
      await backend.download();
      this.phase = 'ready';
      this.log.info('update downloaded, installed at the next restart', { version: this.available?.version });
    } catch (e) {
      this.fail(e, 'download');
      return;
    }
    this.publish();
  }

  private fail(e: unknown, what: 'check' | 'download'): void {
    const err = toAppError(e);
    this.lastCheckAt = this.d.clock.now();
    this.nextCheckAt = new Date(this.lastCheckAt.getTime() + (this.d.retryAfterErrorMs ?? HOUR_MS));
    this.error = err.code === 'UPDATE_FAILED' ? err.message : `La ${what === 'check' ? 'recherche' : 'récupération'} de la mise à jour a échoué.`;
    this.available = null;
    this.phase = 'error';
    this.log.warn(`update ${what} failed`, { code: err.code, detail: err.detail });
    this.publish();
  }
}
