/**
 * Updates as an app feature: updates.status / updates.check and the 'updates:status' event, over the update
 * service of the factory (ctx.services.updates: the decision logic; the host's backend does the work).
 * Downloads wait for the end of a synchronisation: the feature follows 'sync:status' and tells the service
 * when no job is active any more.
 */
import type { AppFeature } from './types.js';

export interface UpdatesFeatureOptions {
  /** False: no background checks in this process (one-shot CLI commands). */
  run?: boolean;
}

export function updatesFeature(opts: UpdatesFeatureOptions = {}): AppFeature {
  return (ctx) => {
    let busy = false;
    const svc = ctx.services.updates({ isBusy: () => busy, onStatus: (s) => ctx.emit('updates:status', s) });
    const off = ctx.on('sync:status', (e) => {
      const was = busy;
      busy = e.jobActive || e.running !== null;
      if (was && !busy) svc.poke();
    });
    let feed = ctx.settings.get().updates.feedUrl.trim();
    if (opts.run !== false) svc.start();
    return {
      name: 'mises à jour',
      handlers: {
        'updates.status': () => svc.status(),
        'updates.check': () => svc.checkNow(),
      },
      onSettingsChanged: (s) => {
        const now = s.updates.feedUrl.trim();
        if (now === feed) return;
        feed = now;
        svc.reconfigure();
      },
      dispose: () => {
        off();
        svc.stop();
      },
    };
  };
}
