/**
 * The service factory: the ONE place that says how the licence service, the Batigest gateway, the
 * BatiSimply client, the buffer and the sync engine are built from the settings. createApp builds one per
 * app and hands it to every feature (`ctx.services`); the Electron shell, the web bridge, the CLI, the
 * demo, the try command, the e2e harness and the bench all go through createApp, so they all build their
 * services here.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { toAppError } from '../../shared/errors.js';
import type { BufferSettings, Settings } from '../../shared/settings.js';
import type { LicenceGuard, Services } from '../features/types.js';
import { BatigestGateway } from '../services/batigest/gateway.js';
import { BatisimplyClient } from '../services/batisimply/client.js';
import { createMailAlerts } from '../services/alerts/mail.js';
import { diagnoseBuffer } from '../services/buffer/diagnose.js';
import { proxiedFetch } from '../services/network/proxy.js';
import { ExportsClient } from '../services/exports/client.js';
import { openBuffer } from '../services/buffer/index.js';
import { BufferPool } from '../services/buffer/pool.js';
import type { BufferStore } from '../services/buffer/store.js';
import { FileLicenceCacheStore } from '../services/licence/cache-store.js';
import { LicenceService, type FetchLike, type PinnedLicenceConfig } from '../services/licence/licence-service.js';
import { fileMachineId } from '../services/licence/machine-id.js';
import { VENDOR_LICENCE_PINNED } from '../services/licence/vendor-config.js';
import type { BatigestPort, BatisimplyPort, Clock, ImportFs, ImportsPorts, Logger, SecretCipher } from '../services/ports.js';
import type { SettingsService } from '../services/settings/service.js';
import type { SyncHooks } from '../services/sync/engine.js';
import type { LeaseTimers } from '../services/sync/lease.js';
import { nodeImportFs } from '../services/sync/flows/imports/files.js';
import { createSyncRuntime } from '../services/sync/runtime.js';
import { UpdateService, type UpdateBackend } from '../services/updates/service.js';

/** Which program is running: decides the licence policy (see licencePolicy). */
export type Entry = 'app' | 'cli' | 'bridge' | 'demo' | 'try' | 'test' | 'bench';

/** The entry points users get in a release (the installed app and its CLI). */
const SHIPPED: ReadonlySet<Entry> = new Set(['app', 'cli']);

export interface LicencePolicy {
  /** Licence values built into the release: settings and CONNECTEUR_* variables cannot change them. */
  pinned: PinnedLicenceConfig;
  /** A release refuses every licence when no vendor key is built in. */
  requireBuiltInKey: boolean;
}

/**
 * The licence policy of an entry point. What users run (the app and its CLI) trusts only the vendor key
 * built into the release (vendor-config.ts), and in a release refuses everything when none is built in.
 * Development entry points (web bridge, demo, try, tests, bench) take the public key from the settings.
 * `testPinned` replaces the built-in values (tests of the release policy only; no setting or variable
 * reaches it).
 */
export function licencePolicy(entry: Entry, release: boolean, testPinned?: PinnedLicenceConfig): LicencePolicy {
  if (testPinned) return { pinned: testPinned, requireBuiltInKey: release && SHIPPED.has(entry) };
  if (SHIPPED.has(entry)) return { pinned: VENDOR_LICENCE_PINNED, requireBuiltInKey: release };
  return { pinned: {}, requireBuiltInKey: false };
}

/** Test and demo injections: replace what the factory would build from the settings. */
export interface ServiceOverrides {
  batigest?: BatigestPort;
  batisimply?: BatisimplyPort;
  buffer?: BufferStore;
  /** Replaces the licence check of the sync (the licence service itself is still built and served). */
  licenceGuard?: LicenceGuard;
  /** Engine checkpoints (crash tests). */
  hooks?: SyncHooks;
  /** HTTP of the licence client. */
  licenceFetch?: FetchLike;
  /** Timers of the sync's lease heartbeat (time-scaled multi-process tests). */
  timers?: LeaseTimers;
  /** The import agent's file operations (fault tests: disk full, read-only folder). */
  importsFs?: ImportFs;
  /** How often the import agent looks at Batigest's import folder while waiting (ms). */
  importsPollMs?: number;
}

export interface ServiceFactoryDeps {
  /** The current settings (the app's settings service; a fixed object for the bench). */
  settings: Pick<SettingsService, 'get'>;
  logger: Logger;
  clock: Clock;
  cipher: SecretCipher;
  userDataDir: string;
  appVersion: string;
  licence: LicencePolicy;
  machineName(): string;
  overrides?: ServiceOverrides;
  /** The host's way to update itself (Electron: electron-updater); none = updates unsupported here. */
  updateBackend?: UpdateBackend;
}

export function createServices(d: ServiceFactoryDeps): Services {
  const o = d.overrides ?? {};
  const log = d.logger;
  let licence: LicenceService | null = null;
  let updates: UpdateService | null = null;
  /** Leases held by the engines of this app (one set for all its runtimes, see SyncEngineDeps.localLeases). */
  const localLeases = new Set<string>();
  const buffers = new BufferPool((s) => (o.buffer ? Promise.resolve(o.buffer) : openBuffer(s, d.userDataDir, log.child({ service: "buffer" }))));

  const importsPorts = (): ImportsPorts => ({
    exports: (s) => services.exports(s),
    fs: o.importsFs ?? nodeImportFs,
    defaultWorkDir: path.join(d.userDataDir, 'imports'),
    defaultAgentId: defaultAgentId(d.machineName(), d.userDataDir),
    ...(o.importsPollMs !== undefined ? { pollMs: o.importsPollMs } : {}),
    onExportError: (e) => {
      const s = d.settings.get();
      const mail = createMailAlerts(s.alerts, { logger: log.child({ service: 'alerts' }), machine: d.machineName() });
      if (mail.active) void mail.exportError(e, s.software === 'codial' ? 'Codial' : 'Sage Batigest');
    },
  });

  const services: Services = {
    licence() {
      licence ??= new LicenceService({
        settings: () => d.settings.get().licence,
        pinned: d.licence.pinned,
        ...(d.licence.requireBuiltInKey ? { requireBuiltInKey: true } : {}),
        // Through the connector's proxy setting, like the exports API and BatiSimply.
        fetch: o.licenceFetch ?? (proxiedFetch(() => d.settings.get().proxy, { timeoutMs: 30_000 }) as FetchLike),
        clock: d.clock,
        cipher: d.cipher,
        cache: new FileLicenceCacheStore(path.join(d.userDataDir, 'licence-cache.enc')),
        logger: log.child({ service: 'licence' }),
        machineId: fileMachineId(d.userDataDir),
        appVersion: d.appVersion,
      });
      return licence;
    },
    licenceGuard() {
      if (o.licenceGuard) return o.licenceGuard;
      const svc = services.licence();
      return { assertSyncAllowed: () => svc.assertSyncAllowed(), allowsSync: () => svc.status().allowsSync };
    },
    gateway(s: Settings) {
      return new BatigestGateway({ settings: s.sqlServer, logger: log.child({ service: 'batigest' }), timezone: s.hours.timezone });
    },
    batisimply(s: Settings) {
      return new BatisimplyClient(s.batisimply, { clock: d.clock, logger: log.child({ service: 'batisimply' }), proxy: s.proxy });
    },
    buffers,
    exports(s: Settings) {
      return new ExportsClient(s.imports, { logger: log.child({ service: 'exports' }), proxy: s.proxy });
    },
    importsAgentId() {
      return defaultAgentId(d.machineName(), d.userDataDir);
    },
    async diagnoseBuffer(s: BufferSettings) {
      // The app's own embedded folder is queried through the open buffer, never opened a second time.
      const current = d.settings.get().buffer;
      const sameFolder = (a: BufferSettings) => a.kind === 'embedded' && s.kind === 'embedded' && (a.embeddedPath || '') === (s.embeddedPath || '');
      let open: BufferStore | null = null;
      if (s.kind === 'embedded') {
        try {
          open = (await buffers.peek(s)) ?? (sameFolder(current) ? await buffers.get(s) : null);
        } catch (e) {
          // The app's own buffer could not be opened: say why, without opening the folder a second time.
          const err = toAppError(e);
          return { ok: false, code: err.code, message: err.message, details: { type: 'intégrée (PGlite)' } };
        }
      }
      return diagnoseBuffer(s, d.userDataDir, open ? { settings: s, query: (sql) => open.db.query(sql) } : null);
    },
    async syncRuntime({ buffer, hooks }) {
      const settings = () => d.settings.get();
      const s = settings();
      const batigest = o.batigest ?? services.gateway(s);
      const batisimply = o.batisimply ?? services.batisimply(s);
      const guard = services.licenceGuard();
      return createSyncRuntime({
        settings,
        logger: log.child({ service: 'sync' }),
        clock: d.clock,
        machineName: d.machineName(),
        licence: guard,
        buffer,
        batigest,
        batisimply,
        imports: importsPorts(),
        localLeases,
        owns: { batigest: !o.batigest, batisimply: !o.batisimply },
        ...((hooks ?? o.hooks) ? { hooks: hooks ?? o.hooks } : {}),
        ...(o.timers ? { timers: o.timers } : {}),
      });
    },
    updates({ isBusy, onStatus }) {
      updates ??= new UpdateService({
        backend: d.updateBackend ?? null,
        feedUrl: () => d.settings.get().updates.feedUrl,
        currentVersion: d.appVersion,
        clock: d.clock,
        logger: log,
        isBusy,
        onStatus,
      });
      return updates;
    },
  };
  return services;
}

/**
 * The import agent's id for this machine when the settings give none: the PC's name and a short digest of its data
 * folder (stable on this PC, different on another one). Shown in Réglages › Imports, where it can be replaced.
 */
export function defaultAgentId(machineName: string, userDataDir: string): string {
  const name = machineName.normalize('NFD').replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'poste';
  const digest = createHash('sha256').update(`${machineName}\n${path.resolve(userDataDir)}`).digest('hex').slice(0, 8);
  return `connecteur-${name}-${digest}`.toLowerCase();
}
