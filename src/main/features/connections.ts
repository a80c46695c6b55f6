/**
 * Connection tests and Batigest set-up as an app feature (see AppFeature in ../app.ts):
 * sqlServer.test, sqlServer.detectColumns, buffer.test, batisimply.test, mapping.codebsStatus,
 * mapping.createCodebsColumn.
 *
 * The "Tester la connexion" buttons may test values the user has typed but not saved yet: the
 * channel's `override` is applied on top of the saved settings (secrets left as `{ keep: true }` use
 * the saved value) without writing anything.
 */
import type { AppContext, AppFeature } from '../app.js';
import type { SettingsPatch } from '../../shared/contract.js';
import type { ConnectionDiagnosis } from '../../shared/domain.js';
import { toAppError } from '../../shared/errors.js';
import type { Settings } from '../../shared/settings.js';
import { BatigestGateway } from '../services/batigest/index.js';
import { BatisimplyClient } from '../services/batisimply/index.js';
import { diagnoseBuffer } from '../services/buffer/diagnose.js';
import { applyPatch } from '../services/settings/service.js';

export interface ConnectionsFeatureOptions {
  /**
   * The buffer the app has open (or opens) for these settings, if it is the same embedded folder: an
   * embedded PGlite folder must never be opened twice in one process, so the test then queries the
   * app's own buffer instead of opening it again. Null when the settings under test are another buffer.
   */
  openBuffer?: (s: Settings['buffer']) => Promise<{ settings: Settings['buffer']; query(sql: string): Promise<unknown[]> } | null>;
}

function withOverride<K extends 'sqlServer' | 'buffer' | 'batisimply'>(
  ctx: AppContext,
  section: K,
  input: { override?: unknown } | undefined,
): Settings {
  const current = ctx.settings.get();
  if (!input?.override) return current;
  return applyPatch(current, { [section]: input.override } as SettingsPatch);
}

export function connectionsFeature(opts: ConnectionsFeatureOptions = {}): AppFeature {
  return (ctx) => {
    const log = ctx.logger.child({ feature: 'connections' });
    const withGateway = async <T>(s: Settings, fn: (g: BatigestGateway) => Promise<T>): Promise<T> => {
      const g = new BatigestGateway({ settings: s.sqlServer, logger: log, timezone: s.hours.timezone });
      try {
        return await fn(g);
      } finally {
        await g.close().catch(() => undefined);
      }
    };
    return {
      handlers: {
        'sqlServer.test': (input) => withGateway(withOverride(ctx, 'sqlServer', input), (g) => g.testConnection()),
        'sqlServer.detectColumns': async (input) => ({
          tables: await withGateway(withOverride(ctx, 'sqlServer', input), (g) => g.detectColumns()),
        }),
        'batisimply.test': async (input): Promise<ConnectionDiagnosis> => {
          const s = withOverride(ctx, 'batisimply', input);
          const client = new BatisimplyClient(s.batisimply, { clock: ctx.clock, logger: log });
          try {
            return await client.testConnection();
          } finally {
            await client.close().catch(() => undefined);
          }
        },
        'buffer.test': async (input) => {
          const s = withOverride(ctx, 'buffer', input).buffer;
          let open: Awaited<ReturnType<NonNullable<ConnectionsFeatureOptions['openBuffer']>>>;
          try {
            open = (await opts.openBuffer?.(s)) ?? null;
          } catch (e) {
            // The app's own buffer could not be opened: say why, without opening the folder a second time.
            const err = toAppError(e);
            return { ok: false, code: err.code, message: err.message, details: { type: 'intégrée (PGlite)' } };
          }
          return diagnoseBuffer(s, ctx.userDataDir, open);
        },
        'mapping.codebsStatus': () => withGateway(ctx.settings.get(), (g) => g.codebsStatus()),
        'mapping.createCodebsColumn': () => withGateway(ctx.settings.get(), (g) => g.createCodebsColumn()),
      },
    };
  };
}
