/**
 * Connection tests and Batigest set-up as an app feature: sqlServer.test, sqlServer.detectColumns,
 * buffer.test, batisimply.test, mapping.codebsStatus, mapping.createCodebsColumn.
 *
 * The "Tester la connexion" buttons may test values the user has typed but not saved yet: the
 * channel's `override` is applied on top of the saved settings (secrets left as `{ keep: true }` use
 * the saved value) without writing anything.
 */
import type { SettingsPatch } from '../../shared/contract.js';
import type { ConnectionDiagnosis } from '../../shared/domain.js';
import type { Settings } from '../../shared/settings.js';
import type { BatigestGateway } from '../services/batigest/gateway.js';
import { applyPatch } from '../services/settings/service.js';
import { parseServerAddress } from '../services/batigest/config.js';
import { discoverInstances } from '../services/batigest/discovery.js';
import { testImportFolder } from '../services/sync/flows/imports/files.js';
import type { AppContext, AppFeature } from './types.js';

function withOverride<K extends 'sqlServer' | 'buffer' | 'batisimply' | 'imports'>(ctx: AppContext, section: K, input: { override?: unknown } | undefined): Settings {
  const current = ctx.settings.get();
  if (!input?.override) return current;
  return applyPatch(current, { [section]: input.override } as SettingsPatch);
}

export function connectionsFeature(): AppFeature {
  return (ctx) => {
    const withGateway = async <T>(s: Settings, fn: (g: BatigestGateway) => Promise<T>): Promise<T> => {
      const g = ctx.services.gateway(s);
      try {
        return await fn(g);
      } finally {
        await g.close().catch(() => undefined);
      }
    };
    return {
      name: 'connexions',
      handlers: {
        'sqlServer.test': (input) => withGateway(withOverride(ctx, 'sqlServer', input), (g) => g.testConnection()),
        'sqlServer.detectColumns': async (input) => ({
          tables: await withGateway(withOverride(ctx, 'sqlServer', input), (g) => g.detectColumns()),
        }),
        'sqlServer.discover': async (input) => {
          const host = input.host.trim() === '' ? '' : parseServerAddress(input.host).host;
          return { instances: await discoverInstances({ host }), broadcast: host === '' };
        },
        'sqlServer.databases': async (input) => ({
          databases: await withGateway(withOverride(ctx, 'sqlServer', input), (g) => g.listDatabases()),
        }),
        'batisimply.test': async (input): Promise<ConnectionDiagnosis> => {
          const client = ctx.services.batisimply(withOverride(ctx, 'batisimply', input));
          try {
            return await client.testConnection();
          } finally {
            await client.close().catch(() => undefined);
          }
        },
        'imports.test': (input) => testImports(ctx, withOverride(ctx, 'imports', input)),
        'buffer.test': (input) => ctx.services.diagnoseBuffer(withOverride(ctx, 'buffer', input).buffer),
        'mapping.codebsStatus': () => withGateway(ctx.settings.get(), (g) => g.codebsStatus()),
        'mapping.createCodebsColumn': () => withGateway(ctx.settings.get(), (g) => g.createCodebsColumn()),
      },
    };
  };
}

/**
 * « Tester » of Réglages › Imports: the exports API (status endpoint, with the key) and Batigest's import folder
 * (present and writable). Nothing is written.
 */
async function testImports(ctx: AppContext, s: Settings): Promise<ConnectionDiagnosis> {
  const agentId = s.imports.agentId.trim() || ctx.services.importsAgentId();
  const client = ctx.services.exports(s);
  let api: ConnectionDiagnosis;
  try {
    api = await client.testConnection(agentId);
  } finally {
    await client.close().catch(() => undefined);
  }
  if (!api.ok) return api;
  const folder = await testImportFolder(s.imports.batigestImportPath, s.software === 'codial' ? 'Codial' : 'Sage Batigest');
  if (!folder.ok) return { ...folder, details: { ...api.details, ...folder.details } };
  return { ...api, message: `${api.message} ${folder.message}`, details: { ...api.details, ...folder.details } };
}
