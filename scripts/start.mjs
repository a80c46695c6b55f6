#!/usr/bin/env node
/**
 * `npm start`: builds the app and opens it in Electron.
 *
 * `npm ci` does not download Electron's binary (package.json › allowScripts denies electron's install script,
 * so the install also works where that download is not reachable; the demo, the tests and the web bridge
 * never need the binary). The first `npm start` fetches it with Electron's own installer
 * (node_modules/electron/install.js, which honours ELECTRON_MIRROR and the other @electron/get variables).
 * When it cannot, one French sentence says why and how to get it, and the exit code is 1 (no stack trace).
 *
 * Plain Node (no tsx): it runs before anything is built. The project is the current directory (npm runs
 * scripts from the package's root).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the `electron` package of the project in `root` is installed. */
export function electronPackageDir(root) {
  return dirname(createRequire(join(root, 'package.json')).resolve('electron/package.json'));
}

/** The Electron executable, or null when its binary has not been downloaded (path.txt or the file is missing). */
export function electronBinary(dir) {
  let relative;
  try {
    relative = readFileSync(join(dir, 'path.txt'), 'utf8').trim();
  } catch {
    return null;
  }
  if (!relative) return null;
  const file = join(dir, 'dist', relative);
  return existsSync(file) ? file : null;
}

/**
 * What went wrong in the installer's output (its stack trace is not shown), in French: the network
 * error when there is one, else the first meaningful line.
 */
export function installFailureReason(output) {
  const text = String(output ?? '');
  const host = /getaddrinfo (?:ENOTFOUND|EAI_AGAIN) ([^\s'"]+)/.exec(text);
  if (host) return `l'adresse ${host[1]} est introuvable depuis ce poste (pas d'accès à Internet ?)`;
  const net = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|CERT_[A-Z_]+|UNABLE_TO_[A-Z_]+|SELF_SIGNED_CERT_IN_CHAIN)\b/.exec(text);
  if (net) return `le téléchargement a échoué (${net[1]})`;
  const http = /(?:Response code|HTTPError: Response code|status(?: code)?)\D{0,3}(\d{3})/i.exec(text);
  if (http) return `le serveur de téléchargement a répondu ${http[1]}`;
  if (/checksum/i.test(text)) return "le fichier téléchargé ne correspond pas à sa somme de contrôle";
  const first = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('at '));
  return first ? `le programme d'installation a échoué (${first.slice(0, 160)})` : "le programme d'installation a échoué";
}

/** The one sentence printed when Electron cannot be had. */
export function electronMissingSentence(reason) {
  return (
    `Electron n'est pas installé et n'a pas pu être téléchargé : ${reason} ; ` +
    'relancez « npm start » depuis un poste qui accède à github.com (ou indiquez un miroir dans ELECTRON_MIRROR), ' +
    'ou essayez l\'application sans Electron avec « npm run try » (navigateur) ou « npm run demo ».'
  );
}

/**
 * Makes sure Electron's binary is there, running its installer when it is not.
 * @returns {{ ok: true, binary: string, installed: boolean } | { ok: false, sentence: string }}
 */
export function ensureElectron(dir, env = process.env, run = spawnSync) {
  const present = electronBinary(dir);
  if (present) return { ok: true, binary: present, installed: false };
  // The installer does nothing when this variable is set: here the download is wanted.
  const { ELECTRON_SKIP_BINARY_DOWNLOAD: _skip, ...childEnv } = env;
  process.stdout.write('Téléchargement d’Electron (première ouverture de l’application sur ce poste)…\n');
  const r = run(process.execPath, [join(dir, 'install.js')], { cwd: dir, env: childEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const binary = electronBinary(dir);
  if (r.status === 0 && binary) return { ok: true, binary, installed: true };
  const output = `${r.stderr ?? ''}\n${r.stdout ?? ''}\n${r.error ? r.error.message : ''}`;
  return { ok: false, sentence: electronMissingSentence(installFailureReason(output)) };
}

async function main() {
  const root = process.cwd();
  let dir;
  try {
    dir = electronPackageDir(root);
  } catch {
    process.stderr.write("Electron n'est pas installé dans node_modules : lancez « npm ci » puis relancez « npm start ».\n");
    return 1;
  }
  const electron = ensureElectron(dir);
  if (!electron.ok) {
    process.stderr.write(`${electron.sentence}\n`);
    return 1;
  }
  const npm = process.env.npm_execpath;
  const build = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' })
    : spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) return build.status ?? 1;
  const child = spawn(electron.binary, ['.', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', windowsHide: false });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => {
    child.on('error', (e) => {
      process.stderr.write(`Electron n'a pas pu être lancé : ${e.message}.\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main();
}
