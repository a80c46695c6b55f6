/**
 * Where the licence client keeps its last answer. The content is already encrypted by the
 * SecretCipher; this store only persists an opaque string (a file in the user data directory).
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../private-fs.js';

export interface LicenceCacheStore {
  read(): Promise<string | null>;
  write(data: string): Promise<void>;
  clear(): Promise<void>;
}

export class FileLicenceCacheStore implements LicenceCacheStore {
  constructor(private readonly file: string) {}

  async read(): Promise<string | null> {
    try {
      return await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async write(data: string): Promise<void> {
    ensurePrivateDir(dirname(this.file));
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, data, { encoding: 'utf8', mode: PRIVATE_FILE_MODE });
    await rename(tmp, this.file);
  }

  async clear(): Promise<void> {
    await rm(this.file, { force: true });
  }
}

/** In-memory store (tests, headless runs without a data directory). */
export class MemoryLicenceCacheStore implements LicenceCacheStore {
  data: string | null = null;
  async read(): Promise<string | null> {
    return this.data;
  }
  async write(data: string): Promise<void> {
    this.data = data;
  }
  async clear(): Promise<void> {
    this.data = null;
  }
}
