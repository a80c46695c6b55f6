/**
 * Composition root. Builds the services from the settings and returns the handler map of the IPC
 * contract. The Electron shell, the web bridge and the tests all call `createApp`, so all of them
 * run the same code; only the store, the cipher and the host differ.
 *
 * Feature modules (sync, licence, mapping, connection tests…) plug in as `AppFeature`s: a function
 * that receives the app context and returns the handlers it implements. Channels no feature
 * implements answer NOT_CONFIGURED with a French message.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CHANNEL_NAMES,
  contract,
  events as eventSchemas,
  type AppInfo,
  type ChannelName,
  type EventName,
  type EventPayload,
  type ScheduleView,
} from '../shared/contract.js';
import { AppError } from '../shared/errors.js';
import { SOFTWARE_LABELS, type Settings } from '../shared/settings.js';
import { createIpcRouter, type Handler, type Handlers, type IpcRouter } from './ipc/router.js';
import { systemClock, type Clock, type Logger, type SecretCipher } from './services/ports.js';
import { SettingsService } from './services/settings/service.js';
import type { SettingsStore } from './services/settings/store.js';

export type AppHost = AppInfo['host'];

export interface AppDeps {
  settingsStore: SettingsStore;
  cipher: SecretCipher;
  logger: Logger;
  clock?: Clock;
  /** The app's per-user data folder (embedded buffer, licence cache, logs). */
  userDataDir: string;
  logDir?: string;
  host: AppHost;
  /** Application version (Electron: app.getVersion(); elsewhere package.json). */
  version?: string;
  /** Environment for CONNECTEUR_* settings overrides (CLI and bridge pass process.env; the app passes nothing). */
  env?: Record<string, string | undefined>;
  features?: AppFeature[];
}

/** What a feature module receives. */
export interface AppContext {
  readonly settings: SettingsService;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly userDataDir: string;
  readonly host: AppHost;
  /** Machine name for the journal: settings.machineName or the OS host name. */
  machineName(): string;
  /** Pushes an event to the renderer(s) (validated against the contract). */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
}

export interface AppFeatureInstance {
  handlers: Partial<Handlers>;
  /** Called when settings change (rebuild connections…). */
  onSettingsChanged?(settings: Settings): void | Promise<void>;
  dispose?(): void | Promise<void>;
}
export type AppFeature = (ctx: AppContext) => AppFeatureInstance | Promise<AppFeatureInstance>;

export interface App {
  readonly context: AppContext;
  readonly settings: SettingsService;
  readonly handlers: Handlers;
  readonly router: IpcRouter;
  /** Subscribes to every pushed event (the shell forwards them to the window, the bridge to SSE). */
  onEvent(listener: <E extends EventName>(event: E, payload: EventPayload<E>) => void): () => void;
  dispose(): Promise<void>;
}

export { SOFTWARE_LABELS };

/** Version from package.json (two folders up from src/main or dist/main). */
export function readPackageInfo(): { version: string; productName: string } {
  try {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const pkg = JSON.parse(fs.readFileSync(path.join(here, '..', '..', 'package.json'), 'utf8')) as { version?: string; productName?: string };
    return { version: pkg.version ?? '0.0.0', productName: pkg.productName ?? 'Connecteur Batigest BatiSimply' };
  } catch {
    return { version: '0.0.0', productName: 'Connecteur Batigest BatiSimply' };
  }
}

function notAvailable(channel: ChannelName): Handler<ChannelName> {
  return () => {
    throw new AppError('NOT_CONFIGURED', "Fonction pas encore disponible dans cette version du connecteur. Contactez votre intégrateur.", {
      detail: `no feature implements ${channel}`,
    });
  };
}

export async function createApp(deps: AppDeps): Promise<App> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger;
  const pkg = readPackageInfo();
  const version = deps.version ?? pkg.version;
  const logDir = deps.logDir ?? path.join(deps.userDataDir, 'logs');
  const listeners = new Set<<E extends EventName>(event: E, payload: EventPayload<E>) => void>();

  const settings = new SettingsService({ store: deps.settingsStore, cipher: deps.cipher, logger, clock, ...(deps.env ? { env: deps.env } : {}) });

  const context: AppContext = {
    settings,
    logger,
    clock,
    userDataDir: deps.userDataDir,
    host: deps.host,
    machineName: () => settings.get().machineName || os.hostname(),
    emit(event, payload) {
      const parsed = eventSchemas[event].safeParse(payload);
      if (!parsed.success) {
        logger.error('event payload does not match the contract; not sent', { event });
        return;
      }
      for (const l of listeners) {
        try {
          l(event, parsed.data as EventPayload<typeof event>);
        } catch (e) {
          logger.warn('event listener failed', { event, detail: e instanceof Error ? e.message : String(e) });
        }
      }
    },
  };
  settings.onNotice((n) => context.emit('settings:notice', n));

  // ---- handlers of the foundation (real) ----
  const scheduleView = (): ScheduleView => ({ ...settings.get().schedule, nextRunAt: null, lastRunAt: null });
  const own: Partial<Handlers> = {
    'app.info': () => {
      const s = settings.get();
      return {
        productName: pkg.productName,
        version,
        machineName: context.machineName(),
        software: s.software,
        softwareLabel: SOFTWARE_LABELS[s.software],
        mode: s.mode,
        setupCompleted: s.setupCompleted,
        host: deps.host,
        platform: `${process.platform}-${process.arch}`,
        userDataDir: deps.userDataDir,
        logDir,
      };
    },
    'settings.get': () => settings.view(),
    'settings.update': (patch) => settings.update(patch),
    'settings.notices': () => settings.notices(),
    'settings.dismissNotice': ({ id }) => {
      settings.dismissNotice(id);
      return { ok: true as const };
    },
    // The scheduler feature overrides these two to add nextRunAt/lastRunAt and to apply the change.
    'schedule.get': () => scheduleView(),
    'schedule.set': (patch) => {
      settings.update({ schedule: patch });
      return scheduleView();
    },
  };

  // ---- feature modules ----
  // TODO(lead): pass the features of the other services here (e.g. in src/main/features.ts):
  //   licence.*            → services/licence (LicenceService + toContractLicenceStatus)
  //   sqlServer.*, mapping.codebsStatus/createCodebsColumn → services/batigest (BatigestGateway)
  //   batisimply.test      → services/batisimply (BatisimplyClient.testConnection)
  //   buffer.test          → services/buffer (openBuffer)
  //   sync.*, journal.*, mapping.get/save, schedule.* → services/sync + buffer + scheduler
  // Until then those channels answer NOT_CONFIGURED.
  const instances: AppFeatureInstance[] = [];
  for (const feature of deps.features ?? []) instances.push(await feature(context));
  settings.onChange((s) => {
    for (const f of instances) {
      try {
        void Promise.resolve(f.onSettingsChanged?.(s)).catch((e: unknown) =>
          logger.warn('feature failed to apply settings', { detail: e instanceof Error ? e.message : String(e) }),
        );
      } catch (e) {
        logger.warn('feature failed to apply settings', { detail: e instanceof Error ? e.message : String(e) });
      }
    }
  });

  const merged: Record<string, unknown> = {};
  for (const name of CHANNEL_NAMES) merged[name] = notAvailable(name);
  Object.assign(merged, own);
  for (const f of instances) Object.assign(merged, f.handlers);
  const handlers = merged as Handlers;
  const router = createIpcRouter(contract, handlers, { logger });

  return {
    context,
    settings,
    handlers,
    router,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async dispose() {
      for (const f of instances.reverse()) {
        try {
          await f.dispose?.();
        } catch (e) {
          logger.warn('feature dispose failed', { detail: e instanceof Error ? e.message : String(e) });
        }
      }
      listeners.clear();
    },
  };
}
