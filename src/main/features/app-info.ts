/**
 * The app itself and its settings as a feature: app.info, settings.get / update / notices / dismissNotice, and the
 * configuration shared with another PC (config.export / config.import: no secret, this PC's name and id kept).
 */
import { exportConfig, readConfigFile, secretsToType, withChangedSecretsCleared } from '../../shared/config-share.js';
import { AppError } from '../../shared/errors.js';
import { SOFTWARE_LABELS } from '../../shared/settings.js';
import type { AppFeature } from './types.js';

export function appInfoFeature(): AppFeature {
  return (ctx) => ({
    name: 'réglages',
    handlers: {
      'app.info': () => {
        const s = ctx.settings.get();
        return {
          productName: ctx.productName,
          version: ctx.version,
          machineName: ctx.machineName(),
          software: s.software,
          softwareLabel: SOFTWARE_LABELS[s.software],
          mode: s.mode,
          setupCompleted: s.setupCompleted,
          host: ctx.host,
          platform: `${process.platform}-${process.arch}`,
          userDataDir: ctx.userDataDir,
          logDir: ctx.logDir,
        };
      },
      'settings.get': () => ctx.settings.view(),
      'settings.update': (patch) => ctx.settings.update(patch),
      'settings.notices': () => ctx.settings.notices(),
      'settings.dismissNotice': ({ id }) => {
        ctx.settings.dismissNotice(id);
        return { ok: true as const };
      },
      'config.export': () => {
        const now = ctx.clock.now();
        const file = exportConfig(ctx.settings.get(), { machineName: ctx.machineName(), appVersion: ctx.version, now });
        ctx.logger.info('configuration exported', { secretsLeftOut: file.secretsSet.length });
        return { fileName: `configuration-connecteur-${now.toISOString().slice(0, 10)}.json`, content: JSON.stringify(file, null, 2) };
      },
      'config.import': ({ content }) => {
        const r = readConfigFile(content);
        if (!r.ok) throw new AppError('INVALID_INPUT', r.reason);
        const view = ctx.settings.update(withChangedSecretsCleared(r.patch, ctx.settings.get()));
        ctx.logger.info('configuration imported', { from: r.file.exportedFrom });
        return { view, from: r.file.exportedFrom, secretsToType: secretsToType(r.file, ctx.settings.get()) };
      },
    },
  });
}
