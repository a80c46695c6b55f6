/** What the notification policy notified, in <données>/notifications.json (plain Node: tested without Electron). */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { NotificationMemoryStore } from './ports.js';

const memorySchema = z.object({
  version: z.literal(1),
  problems: z.record(z.string().max(200), z.object({ keys: z.array(z.string().max(300)).max(1000), title: z.string().max(500) })),
});

export function fileNotificationMemory(dir: string): NotificationMemoryStore {
  const file = path.join(dir, 'notifications.json');
  return {
    load() {
      try {
        return memorySchema.parse(JSON.parse(fs.readFileSync(file, 'utf8'))).problems;
      } catch {
        // Missing or unreadable: as on a first start (each current problem is notified once).
        return null;
      }
    },
    save(m) {
      try {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(`${file}.part`, JSON.stringify({ version: 1, problems: m }), { mode: 0o600 });
        fs.renameSync(`${file}.part`, file);
      } catch {
        /* notifying again after a restart is better than failing */
      }
    },
  };
}
