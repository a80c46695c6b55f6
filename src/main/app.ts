/**
 * Composition root. Builds the settings service and the service factory from what the host gives
 * (settings store, cipher, logger, data folder), starts the feature modules, and returns the handler
 * map of the IPC contract with its router. The Electron shell, the web bridge, the CLI, the demo, the
 * try command, the e2e harness and the bench all call createApp: they all run the same code; only the
 * store, the cipher, the host and the entry point (its licence policy) differ.
 *
 * Each channel is implemented by exactly one feature: a second handler under the same name stops the
 * start with a clear error (no silent override). Channels no feature implements answer NOT_CONFIGURED.
 */
import os from 'node:os';
import path from 'node:path';
import { CHANNEL_NAMES, contract, events as eventSchemas, isChannelName, type ChannelName, type EventName, type EventPayload } from '../shared/contract.js';
import { AppError } from '../shared/errors.js';
import { createServices, licencePolicy, type Entry, type ServiceOverrides } from './composition/services.js';
import { appInfoFeature } from './features/app-info.js';
import type { AppContext, AppFeature, AppFeatureInstance, AppHost, Services } from './features/types.js';
import { createIpcRouter, type Handler, type Handlers, type IpcRouter } from './ipc/router.js';
import { readPackageInfo } from './package-info.js';
import type { PinnedLicenceConfig } from './services/licence/licence-service.js';
import { LICENCE_LOCKED_PATHS } from './services/licence/vendor-config.js';
import { systemClock, type Clock, type Logger, type SecretCipher } from './services/ports.js';
import { SettingsService } from './services/settings/service.js';
import type { SettingsStore } from './services/settings/store.js';
import type { UpdateBackend } from './services/updates/service.js';

export type { AppContext, AppFeature, AppFeatureInstance, AppHost } from './features/types.js';
export type { Entry } from './composition/services.js';

export interface AppDeps {
  settingsStore: SettingsStore;
  cipher: SecretCipher;
  logger: Logger;
  clock?: Clock;
  /** The app's per-user data folder (embedded buffer, licence cache, logs). */
  userDataDir: string;
  logDir?: string;
  host: AppHost;
  /** Which program runs (licence policy); defaults from the host: electron → app, bridge → bridge, headless → cli. */
  entry?: Entry;
  /** A packaged release (Electron: app.isPackaged; elsewhere package.json, see package-info.ts). */
  release?: boolean;
  /** Application version (Electron: app.getVersion(); elsewhere package.json). */
  version?: string;
  /** Environment for CONNECTEUR_* settings overrides (CLI and bridge pass process.env; the app passes nothing). */
  env?: Record<string, string | undefined>;
  /** The feature modules (besides app.info and settings.*, always there): see src/main/features/index.ts. */
  features?: AppFeature[];
  /** Tests of the release policy only: licence values in place of those built into the release. */
  licencePinned?: PinnedLicenceConfig;
  /** Tests and demo: services replaced by stand-ins. */
  overrides?: ServiceOverrides;
  /** How this host updates itself (the Electron shell: electron-updater); none = no automatic update. */
  updateBackend?: UpdateBackend;
}

export interface App {
  readonly context: AppContext;
  readonly settings: SettingsService;
  readonly services: Services;
  readonly handlers: Handlers;
  readonly router: IpcRouter;
  /** Subscribes to every pushed event (the shell forwards them to the window, the bridge to SSE). */
  onEvent(listener: <E extends EventName>(event: E, payload: EventPayload<E>) => void): () => void;
  dispose(): Promise<void>;
}

const DEFAULT_ENTRY: Record<AppHost, Entry> = { electron: 'app', bridge: 'bridge', headless: 'cli' };

function notAvailable(channel: ChannelName): Handler<ChannelName> {
  return () => {
    throw new AppError('NOT_CONFIGURED', "Fonction pas encore disponible dans cette version du connecteur. Contactez votre intégrateur.", {
      detail: `no feature implements ${channel}`,
    });
  };
}

/**
 * The handler map of the features: every name a channel of the contract, every channel at most once.
 * Throws (the app does not start) on a duplicate or an unknown name.
 */
export function mergeHandlers(instances: readonly AppFeatureInstance[]): Handlers {
  const owner = new Map<string, string>();
  const merged: Record<string, unknown> = {};
  for (const [i, f] of instances.entries()) {
    const who = f.name ?? `module n° ${i + 1}`;
    for (const [name, handler] of Object.entries(f.handlers)) {
      if (handler === undefined) continue;
      if (!isChannelName(name)) {
        throw new AppError('INTERNAL', `Le connecteur ne peut pas démarrer : le module « ${who} » traite une action inconnue du contrat (${name}).`, {
          detail: `unknown channel ${name} in feature ${who}`,
        });
      }
      const first = owner.get(name);
      if (first !== undefined) {
        throw new AppError('INTERNAL', `Le connecteur ne peut pas démarrer : l'action « ${name} » est traitée deux fois (modules « ${first} » et « ${who} »).`, {
          detail: `duplicate handler ${name}: ${first} and ${who}`,
        });
      }
      owner.set(name, who);
      merged[name] = handler;
    }
  }
  for (const name of CHANNEL_NAMES) if (!(name in merged)) merged[name] = notAvailable(name);
  return merged as Handlers;
}

export async function createApp(deps: AppDeps): Promise<App> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger;
  const pkg = readPackageInfo();
  const version = deps.version ?? pkg.version;
  const entry = deps.entry ?? DEFAULT_ENTRY[deps.host];
  const policy = licencePolicy(entry, deps.release ?? pkg.release, deps.licencePinned);
  const logDir = deps.logDir ?? path.join(deps.userDataDir, 'logs');
  const listeners = new Set<<E extends EventName>(event: E, payload: EventPayload<E>) => void>();

  const settings = new SettingsService({
    store: deps.settingsStore,
    cipher: deps.cipher,
    logger,
    clock,
    ...(deps.env ? { env: deps.env } : {}),
    // Once a public key is built in, no variable or imposed file may point the licence elsewhere.
    lockedPaths: policy.pinned.publicKey ? LICENCE_LOCKED_PATHS : [],
  });
  const machineName = (): string => settings.get().machineName || os.hostname();
  const services = createServices({
    settings,
    logger,
    clock,
    cipher: deps.cipher,
    userDataDir: deps.userDataDir,
    appVersion: version,
    licence: policy,
    machineName,
    ...(deps.overrides ? { overrides: deps.overrides } : {}),
    ...(deps.updateBackend ? { updateBackend: deps.updateBackend } : {}),
  });

  const context: AppContext = {
    settings,
    services,
    logger,
    clock,
    userDataDir: deps.userDataDir,
    logDir,
    host: deps.host,
    version,
    productName: pkg.productName,
    machineName,
    emit(event, payload) {
      const parsed = eventSchemas[event].safeParse(payload);
      if (!parsed.success) {
        logger.error('event payload does not match the contract; not sent', { event });
        return;
      }
      for (const l of [...listeners]) {
        try {
          l(event, parsed.data as EventPayload<typeof event>);
        } catch (e) {
          logger.warn('event listener failed', { event, detail: e instanceof Error ? e.message : String(e) });
        }
      }
    },
    on(event, listener) {
      const l = <E extends EventName>(e: E, payload: EventPayload<E>) => {
        if (e === (event as EventName)) listener(payload as unknown as Parameters<typeof listener>[0]);
      };
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  settings.onNotice((n) => context.emit('settings:notice', n));

  const instances: AppFeatureInstance[] = [];
  const disposeAll = async (): Promise<void> => {
    for (const f of [...instances].reverse()) {
      try {
        await f.dispose?.();
      } catch (e) {
        logger.warn('feature dispose failed', { detail: e instanceof Error ? e.message : String(e) });
      }
    }
    await services.buffers.dispose().catch((e: unknown) => logger.warn('closing the buffers failed', { detail: e instanceof Error ? e.message : String(e) }));
    listeners.clear();
  };
  let handlers: Handlers;
  try {
    // app.info and settings.* are part of every app; the other channels come from the features given.
    for (const feature of [appInfoFeature(), ...(deps.features ?? [])]) instances.push(await feature(context));
    handlers = mergeHandlers(instances);
  } catch (e) {
    await disposeAll();
    throw e;
  }
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
  const guards = instances.flatMap((f) => (f.guard ? [f.guard.bind(f)] : []));
  const router = createIpcRouter(contract, handlers, {
    logger,
    ...(guards.length ? { guard: async (channel, input, call) => { for (const g of guards) await g(channel, input, call); } } : {}),
  });

  return {
    context,
    settings,
    services,
    handlers,
    router,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose: disposeAll,
  };
}
