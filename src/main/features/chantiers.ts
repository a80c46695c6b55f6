/**
 * Réglages › Chantiers as an app feature (issue 18): chantiers.preview shows, before the first run, what the chosen
 * scope, Etat meanings, sold-hours source and name source would send (the choices typed but not saved yet may be
 * previewed through `override`, applied on top of the saved settings without writing anything).
 */
import type { SettingsPatch } from '../../shared/contract.js';
import { applyPatch } from '../services/settings/service.js';
import { previewChantiers } from '../services/sync/chantier-preview.js';
import type { AppFeature } from './types.js';

export function chantiersFeature(): AppFeature {
  return (ctx) => ({
    name: 'chantiers',
    handlers: {
      'chantiers.preview': async (input) => {
        const current = ctx.settings.get();
        const s = input?.override ? applyPatch(current, { chantiers: input.override } as SettingsPatch) : current;
        const g = ctx.services.gateway(s);
        try {
          return await previewChantiers(g, s.chantiers, ctx.clock.now());
        } finally {
          await g.close().catch(() => undefined);
        }
      },
    },
  });
}
