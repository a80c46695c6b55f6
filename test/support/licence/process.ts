/**
 * The licence manager as a real child process (`src/license-manager/main.ts serve` under tsx), the
 * way it runs in production: a test can tell whether a request made the PROCESS exit, which an
 * in-process server cannot show. stdout/stderr lines are kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateSigningKeyPair, hashPassword } from '../../../src/license-manager/security.js';
import { TEST_ADMIN_PASSWORD, type TestDatabase } from './db.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface LicenseManagerProcess {
  child: ChildProcess;
  url: string;
  publicKeyPem: string;
  stdout: string[];
  stderr: string[];
  /** True while the process has not exited. */
  alive(): boolean;
  stop(): Promise<void>;
}

export async function startLicenseManagerProcess(db: TestDatabase, env: Record<string, string> = {}): Promise<LicenseManagerProcess> {
  const keys = generateSigningKeyPair();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/license-manager/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.url,
      LM_SIGNING_PRIVATE_KEY: keys.privateKeyPem,
      LM_ADMIN_PASSWORD_HASH: await hashPassword(TEST_ADMIN_PASSWORD),
      LM_HOST: '127.0.0.1',
      LM_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const lines = (into: string[]) => {
    let buf = '';
    return (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        into.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    };
  };
  child.stdout!.on('data', lines(stdout));
  child.stderr!.on('data', lines(stderr));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`licence manager did not start: ${stderr.join('\n')}`)), 60_000);
    const poll = setInterval(() => {
      for (const l of stdout) {
        try {
          const j = JSON.parse(l) as { msg?: string; url?: string };
          if (j.msg === 'gestionnaire de licences démarré' && j.url) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve(j.url);
            return;
          }
        } catch {
          /* not a JSON line */
        }
      }
      if (exited) {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`licence manager exited at start: ${stderr.join('\n')}`));
      }
    }, 50);
  });

  return {
    child,
    url,
    publicKeyPem: keys.publicKeyPem,
    stdout,
    stderr,
    alive: () => !exited,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await Promise.race([exit, new Promise((r) => setTimeout(r, 10_000))]);
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
  };
}
