/**
 * What a feature module is and what it receives. A feature is a function of the app context that
 * returns the handlers of the contract it implements (each channel is implemented by exactly one
 * feature: createApp refuses a second handler of the same name).
 *
 * Features never build services themselves: they ask `ctx.services` (the service factory of the
 * composition root), so the Electron app, the web bridge, the CLI, the demo and the tests build the
 * licence service, the Batigest gateway, the BatiSimply client, the buffer and the engine one way.
 */
import type { AppInfo, ChannelName, EventName, EventPayload, UpdateStatus } from '../../shared/contract.js';
import type { ConnectionDiagnosis } from '../../shared/domain.js';
import type { BufferSettings, Settings } from '../../shared/settings.js';
import type { CallContext, Handlers } from '../ipc/router.js';
import type { BatigestGateway } from '../services/batigest/gateway.js';
import type { BatisimplyClient } from '../services/batisimply/client.js';
import type { ExportsPort } from '../services/exports/client.js';
import type { BufferPool } from '../services/buffer/pool.js';
import type { BufferStore } from '../services/buffer/store.js';
import type { LicenceService } from '../services/licence/licence-service.js';
import type { Clock, Logger } from '../services/ports.js';
import type { SettingsService } from '../services/settings/service.js';
import type { SyncHooks } from '../services/sync/engine.js';
import type { SyncRuntime } from '../services/sync/runtime.js';
import type { UpdateService } from '../services/updates/service.js';

export type AppHost = AppInfo['host'];

/** What the sync asks before every run, manual or scheduled. */
export interface LicenceGuard {
  assertSyncAllowed(): Promise<unknown>;
  /** Current answer without any network call (sync.status); absent = ask assertSyncAllowed. */
  allowsSync?(): boolean;
}

/**
 * The service factory (implemented in src/main/composition/services.ts): the one place that says how
 * each service is built from the settings.
 */
export interface Services {
  /** The licence service of this app (built once, with the licence policy of the entry point). */
  licence(): LicenceService;
  /** What the sync asks before each run: the licence service (or a test's stand-in). */
  licenceGuard(): LicenceGuard;
  /** A new Batigest gateway for these settings; the caller closes it. */
  gateway(s: Settings): BatigestGateway;
  /** A new BatiSimply client for these settings; the caller closes it. */
  batisimply(s: Settings): BatisimplyClient;
  /** A new exports API client (import agent) for these settings; the caller closes it. */
  exports(s: Settings): ExportsPort;
  /** The import agent's id generated for this machine (used when imports.agentId is empty). */
  importsAgentId(): string;
  /** The buffers this app has open (an embedded folder is opened once per process). */
  readonly buffers: BufferPool;
  /** « Tester la connexion » of a buffer (uses the open one when it is the same embedded folder). */
  diagnoseBuffer(s: BufferSettings): Promise<ConnectionDiagnosis>;
  /** The sync engine and its ports on an open buffer; closing it closes the gateway and the client. */
  syncRuntime(o: { buffer: BufferStore; hooks?: SyncHooks }): Promise<SyncRuntime>;
  /**
   * The update service of this app (built once, on the host's backend: electron-updater in the app, none in
   * the web bridge and the CLI). `isBusy`: a synchronisation runs (downloads wait for its end).
   */
  updates(o: { isBusy: () => boolean; onStatus: (s: UpdateStatus) => void }): UpdateService;
}

/**
 * What the host can do on the desktop (Electron: shell.openPath / showItemInFolder, behind the shell's
 * interface). Absent in the web bridge and the CLI: the UI then shows the path.
 */
export interface DesktopOpener {
  openFolder(path: string): Promise<boolean>;
  showFile(path: string): Promise<boolean>;
}

/** What a feature module receives. */
export interface AppContext {
  readonly settings: SettingsService;
  readonly services: Services;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly userDataDir: string;
  readonly logDir: string;
  readonly host: AppHost;
  readonly version: string;
  readonly productName: string;
  /** Machine name for the journal: settings.machineName or the OS host name. */
  machineName(): string;
  /** Pushes an event to the renderer(s) (validated against the contract). */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  /** Listens to the events the features push (e.g. the sync listens to 'licence:status'); returns the unsubscribe. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

export interface AppFeatureInstance {
  /** The feature's name, for errors (a channel implemented twice names both features). */
  name?: string;
  handlers: Partial<Handlers>;
  /**
   * Checked before every call of every channel (after its input is validated): throw to refuse it. The
   * protection on a shared PC refuses the protected channels here while locked, in the main process.
   */
  guard?(channel: ChannelName, input: unknown, call: CallContext): void | Promise<void>;
  /** Called when settings change (rebuild connections…). */
  onSettingsChanged?(settings: Settings): void | Promise<void>;
  dispose?(): void | Promise<void>;
}

export type AppFeature = (ctx: AppContext) => AppFeatureInstance | Promise<AppFeatureInstance>;
