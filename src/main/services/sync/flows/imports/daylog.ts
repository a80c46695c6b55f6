/**
 * The import agent's daily log in its work folder (`Logs/sync-YYYY-MM-DD.log`, as the seed's agent wrote it), for
 * the integrator who looks at the folder: one line per step, never a secret (the API key, if a message ever held
 * it, is masked), files older than `keepDays` removed at the start of a cycle.
 */
import path from 'node:path';
import type { ImportFs } from '../../../ports.js';

const pad = (v: number): string => String(v).padStart(2, '0');
const day = (d: Date): string => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

export class DayLog {
  private readonly secrets: string[];
  constructor(
    private readonly fs: ImportFs,
    private readonly dir: string,
    private readonly now: () => Date,
    secrets: string[],
  ) {
    this.secrets = secrets.filter((s) => s.length >= 4);
  }

  /** The file of the day (local date of this PC). */
  fileOf(d: Date = this.now()): string {
    return path.join(this.dir, `sync-${day(d)}.log`);
  }

  async write(level: 'INFO' | 'WARN' | 'ERROR', message: string): Promise<void> {
    const d = this.now();
    let text = message.replace(/[\r\n]+/g, ' ');
    for (const s of this.secrets) text = text.split(s).join('***');
    try {
      await this.fs.appendFile(this.fileOf(d), `${d.toISOString()} ${level.padEnd(5)} ${text}\n`);
    } catch {
      // The log is a help for the integrator: a full disk must not stop the cycle because of it.
    }
  }

  /** Removes the daily files older than `keepDays`. */
  async rotate(keepDays = 30): Promise<number> {
    const limit = day(new Date(this.now().getTime() - keepDays * 86_400_000));
    let removed = 0;
    for (const f of await this.fs.readdir(this.dir).catch(() => [] as string[])) {
      const m = /^sync-(\d{4}-\d{2}-\d{2})\.log$/.exec(f);
      if (m && (m[1] ?? '') < limit) {
        await this.fs.unlink(path.join(this.dir, f)).catch(() => undefined);
        removed++;
      }
    }
    return removed;
  }
}
