/**
 * The licence as an app feature (see AppFeature in src/main/app.ts):
 *  - IPC handlers licence.status / licence.setKey / licence.check, event 'licence:status';
 *  - validation at start, then `checkIfDue()` every few minutes (it only calls the network when
 *    `nextCheckAt` has passed, i.e. every `revalidateHours`, or hourly while offline);
 *  - `guard.assertSyncAllowed()` for the sync engine and the scheduler.
 */
import path from 'node:path';
import { fetch as undiciFetch } from 'undici';
import type { AppFeature, AppFeatureInstance } from '../../app.js';
import { AppError } from '../../../shared/errors.js';
import type { SecretCipher } from '../ports.js';
import { FileLicenceCacheStore } from './cache-store.js';
import { toContractLicenceStatus } from './ipc-status.js';
import { LicenceService, type FetchLike, type PinnedLicenceConfig } from './licence-service.js';
import { fileMachineId } from './machine-id.js';
import { VENDOR_LICENCE_PINNED } from './vendor-config.js';

export interface LicenceFeatureOptions {
  cipher: SecretCipher;
  appVersion: string;
  fetch?: FetchLike;
  /** Defaults to the values built into the release (vendor-config.ts). */
  pinned?: PinnedLicenceConfig;
  /** Packaged (production) app: refuse every licence when no vendor key is built in (see LicenceServiceDeps). */
  requireBuiltInKey?: boolean;
  /** How often the due-check runs (default 10 minutes). */
  tickMs?: number;
  /** How long licence.status waits for the start-up check (default 3 s). */
  firstStatusWaitMs?: number;
}

export function createLicenceFeature(opts: LicenceFeatureOptions): {
  feature: AppFeature;
  guard: { assertSyncAllowed(): Promise<void> };
  service(): LicenceService | null;
} {
  let svc: LicenceService | null = null;
  const feature: AppFeature = (ctx) => {
    const service = new LicenceService({
      settings: () => ctx.settings.get().licence,
      pinned: opts.pinned ?? VENDOR_LICENCE_PINNED,
      ...(opts.requireBuiltInKey ? { requireBuiltInKey: true } : {}),
      fetch: opts.fetch ?? (undiciFetch as unknown as FetchLike),
      clock: ctx.clock,
      cipher: opts.cipher,
      cache: new FileLicenceCacheStore(path.join(ctx.userDataDir, 'licence-cache.enc')),
      logger: ctx.logger.child({ service: 'licence' }),
      machineId: fileMachineId(ctx.userDataDir),
      appVersion: opts.appVersion,
    });
    svc = service;
    let lastEmitted = '';
    const publish = () => {
      const s = toContractLicenceStatus(service.status());
      const json = JSON.stringify(s);
      if (json !== lastEmitted) {
        lastEmitted = json;
        ctx.emit('licence:status', s);
      }
      return s;
    };
    const checkNow = async () => {
      try {
        await service.validate();
      } catch (e) {
        if (!(e instanceof AppError && e.code === 'LICENSE_FORMAT')) throw e;
      }
      return publish();
    };
    const started = service
      .start()
      .then(publish)
      .catch((e: unknown) => ctx.logger.warn('vérification de licence au démarrage impossible', { detail: e instanceof Error ? e.message : String(e) }));
    /** The UI's first question waits a little for the start-up check rather than showing "not verified". */
    const startedOrSoon = () =>
      Promise.race([started, new Promise<void>((resolve) => setTimeout(resolve, opts.firstStatusWaitMs ?? 3000).unref())]);
    const timer = setInterval(() => {
      void service
        .checkIfDue()
        .then(publish)
        .catch((e: unknown) => ctx.logger.warn('vérification de licence impossible', { detail: e instanceof Error ? e.message : String(e) }));
    }, opts.tickMs ?? 10 * 60_000);
    timer.unref();

    let lastConfig = JSON.stringify(ctx.settings.get().licence);
    const instance: AppFeatureInstance = {
      handlers: {
        'licence.status': async () => {
          await startedOrSoon();
          return toContractLicenceStatus(service.status());
        },
        'licence.check': () => checkNow(),
        'licence.setKey': async ({ key }) => {
          ctx.settings.update({ licence: { key } });
          lastConfig = JSON.stringify(ctx.settings.get().licence);
          return checkNow();
        },
      },
      onSettingsChanged: async (s) => {
        const now = JSON.stringify(s.licence);
        if (now === lastConfig) return;
        lastConfig = now;
        await checkNow();
      },
      dispose: () => clearInterval(timer),
    };
    return instance;
  };
  return {
    feature,
    service: () => svc,
    guard: {
      async assertSyncAllowed() {
        if (!svc) throw new AppError('LICENSE_REQUIRED', "La licence n'a pas encore été vérifiée. Ouvrez la page Licence pour la vérifier.");
        await svc.assertSyncAllowed();
      },
    },
  };
}
