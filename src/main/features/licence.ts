/**
 * The licence as an app feature:
 *  - IPC handlers licence.status / licence.setKey / licence.check, event 'licence:status';
 *  - validation at start, then `checkIfDue()` every few minutes (it only calls the network when
 *    `nextCheckAt` has passed, i.e. every `revalidateHours`, or hourly while offline).
 * The licence service itself is built by the service factory (ctx.services.licence()), with the licence
 * policy of the entry point; the sync asks it through ctx.services.licenceGuard().
 */
import type { AppFeature, AppFeatureInstance } from './types.js';
import { AppError } from '../../shared/errors.js';
import { toContractLicenceStatus } from '../services/licence/ipc-status.js';

export interface LicenceFeatureOptions {
  /** Validate at start (default true; one-shot CLI commands validate only when a sync asks). */
  checkAtStart?: boolean;
  /** How often the due-check runs (default 10 minutes). */
  tickMs?: number;
  /** How long licence.status waits for the start-up check (default 3 s). */
  firstStatusWaitMs?: number;
}

export function licenceFeature(opts: LicenceFeatureOptions = {}): AppFeature {
  return (ctx) => {
    const service = ctx.services.licence();
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
    const started =
      opts.checkAtStart === false
        ? Promise.resolve()
        : service
            .start()
            .then(publish)
            .catch((e: unknown) => ctx.logger.warn('vérification de licence au démarrage impossible', { detail: e instanceof Error ? e.message : String(e) }));
    /** The UI's first question waits a little for the start-up check rather than showing "not verified". */
    const startedOrSoon = () => Promise.race([started, new Promise<void>((resolve) => setTimeout(resolve, opts.firstStatusWaitMs ?? 3000).unref())]);
    const timer = setInterval(() => {
      void service
        .checkIfDue()
        .then(publish)
        .catch((e: unknown) => ctx.logger.warn('vérification de licence impossible', { detail: e instanceof Error ? e.message : String(e) }));
    }, opts.tickMs ?? 10 * 60_000);
    timer.unref();

    let lastConfig = JSON.stringify(ctx.settings.get().licence);
    const instance: AppFeatureInstance = {
      name: 'licence',
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
}
