/**
 * Identifier of this PC ("poste") for the licence seats.
 *
 * The licence is bound to the operating system's machine id, which a copied data folder does not
 * carry: /etc/machine-id (or /var/lib/dbus/machine-id) on Linux, the `MachineGuid` of
 * HKLM\SOFTWARE\Microsoft\Cryptography on Windows (read with `reg query`, 64-bit view), the
 * `IOPlatformUUID` on macOS. The raw value is never sent: the id is an HMAC of it under a key proper
 * to this application (`m2-` + 32 hex digits), as systemd recommends for application-specific ids.
 *
 * Fallback, when the OS id cannot be read (unknown platform, restricted registry, empty
 * machine-id): the previous scheme, sha256(lower(host name) | random seed kept in the data folder),
 * `source: 'dossier'`. That one IS carried by a copy of the data folder to a PC of the same name.
 *
 * Migration: an installation created before this scheme has the seed file. Its old id is returned
 * as `previous`; the licence client sends it with the new id, and the licence manager renames the
 * seat held by the old id (see migration 2) — no second seat is taken and none is lost.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface MachineIdentity {
  /** What the licence seat is bound to. */
  id: string;
  /** The id this installation had under the previous scheme (seed file present), else null. */
  previous: string | null;
  /** 'systeme': from the operating system; 'dossier': fallback from the data folder + host name. */
  source: 'systeme' | 'dossier';
}

/** Where the OS machine id is read from (injectable: tests give fixed files and command outputs). */
export interface MachineIdSources {
  platform: NodeJS.Platform;
  readFile(path: string): Promise<string>;
  /** Runs a program (no shell) and returns its standard output. */
  run(command: string, args: string[]): Promise<string>;
}

export type MachineIdProvider = () => Promise<MachineIdentity>;

const APP_KEY = 'connecteur-batigest-batisimply/poste/v2';
const SEED_FILE = 'machine-id';

export function nodeMachineIdSources(): MachineIdSources {
  return {
    platform: process.platform,
    readFile: (p) => readFile(p, 'utf8'),
    run: (command, args) =>
      new Promise((resolve, reject) => {
        execFile(command, args, { timeout: 5000, windowsHide: true, maxBuffer: 64 * 1024, encoding: 'utf8' }, (err, stdout) =>
          err ? reject(err) : resolve(stdout),
        );
      }),
  };
}

const HEX32 = /^[0-9a-f]{32}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function plausible(id: string): boolean {
  return /[1-9a-f]/.test(id.replace(/-/g, '')); // not all zeros
}

/** The operating system's machine id (lower case), or null when it cannot be read. */
export async function readOsMachineId(src: MachineIdSources): Promise<string | null> {
  try {
    if (src.platform === 'linux' || src.platform === 'freebsd' || src.platform === 'openbsd') {
      for (const file of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
        const v = await src.readFile(file).then(
          (t) => t.trim().toLowerCase(),
          () => '',
        );
        if (HEX32.test(v) && plausible(v)) return v;
      }
      return null;
    }
    if (src.platform === 'win32') {
      const out = await src.run('reg', ['query', 'HKLM\\SOFTWARE\\Microsoft\\Cryptography', '/v', 'MachineGuid', '/reg:64']);
      const v = /MachineGuid\s+REG_SZ\s+(\S+)/i.exec(out)?.[1]?.toLowerCase() ?? '';
      return GUID.test(v) && plausible(v) ? v : null;
    }
    if (src.platform === 'darwin') {
      const out = await src.run('ioreg', ['-rd1', '-c', 'IOPlatformExpertDevice']);
      const v = /"IOPlatformUUID"\s*=\s*"([^"]+)"/.exec(out)?.[1]?.toLowerCase() ?? '';
      return GUID.test(v) && plausible(v) ? v : null;
    }
    return null;
  } catch {
    return null;
  }
}

async function readSeed(userDataDir: string): Promise<string | null> {
  try {
    const seed = (await readFile(join(userDataDir, SEED_FILE), 'utf8')).trim();
    return /^[0-9a-f-]{36}$/.test(seed) ? seed : null;
  } catch {
    return null;
  }
}

function legacyFrom(host: string, seed: string): string {
  return createHash('sha256').update(`${host.toLowerCase()}|${seed}`).digest('hex').slice(0, 32);
}

/** The id of the previous scheme; creates the seed file when missing (the fallback needs it). */
export async function legacyMachineId(userDataDir: string, host: () => string = hostname): Promise<string> {
  let seed = await readSeed(userDataDir);
  if (!seed) {
    seed = randomUUID();
    await mkdir(userDataDir, { recursive: true });
    await writeFile(join(userDataDir, SEED_FILE), seed, { encoding: 'utf8', mode: 0o600 });
  }
  return legacyFrom(host(), seed);
}

/** The id derived from the OS machine id. */
export function osBoundMachineId(osId: string): string {
  return `m2-${createHmac('sha256', APP_KEY).update(osId.toLowerCase()).digest('hex').slice(0, 32)}`;
}

/**
 * The provider used by the app and the CLI (the name is kept from the previous scheme, whose seed file
 * lives in `userDataDir`). Computed once per provider.
 */
export function fileMachineId(userDataDir: string, host: () => string = hostname, sources: MachineIdSources = nodeMachineIdSources()): MachineIdProvider {
  let cached: Promise<MachineIdentity> | null = null;
  const compute = async (): Promise<MachineIdentity> => {
    const osId = await readOsMachineId(sources);
    if (!osId) return { id: await legacyMachineId(userDataDir, host), previous: null, source: 'dossier' };
    const seed = await readSeed(userDataDir);
    return { id: osBoundMachineId(osId), previous: seed ? legacyFrom(host(), seed) : null, source: 'systeme' };
  };
  return () => {
    cached ??= compute().catch((e: unknown) => {
      cached = null;
      throw e;
    });
    return cached;
  };
}
