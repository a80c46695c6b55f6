/**
 * Default machine identifier: a random id created once in the user data directory, hashed with the
 * host name. Copying the data directory to another PC yields another identifier (another "poste").
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export type MachineIdProvider = () => Promise<string>;

export function fileMachineId(userDataDir: string, host: () => string = hostname): MachineIdProvider {
  let cached: string | null = null;
  return async () => {
    if (cached) return cached;
    const file = join(userDataDir, 'machine-id');
    let seed: string;
    try {
      seed = (await readFile(file, 'utf8')).trim();
      if (!/^[0-9a-f-]{36}$/.test(seed)) throw new Error('machine-id illisible');
    } catch {
      seed = randomUUID();
      await mkdir(userDataDir, { recursive: true });
      await writeFile(file, seed, { encoding: 'utf8', mode: 0o600 });
    }
    cached = createHash('sha256').update(`${host().toLowerCase()}|${seed}`).digest('hex').slice(0, 32);
    return cached;
  };
}
