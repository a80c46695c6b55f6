/** The app itself and its settings as a feature: app.info, settings.get / update / notices / dismissNotice. */
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
    },
  });
}
