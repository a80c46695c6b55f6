#!/usr/bin/env node
/**
 * What `npm test` needs besides node_modules, checked (and, as root on Debian, installed or started) before
 * the suite runs — the first step of the `test` script, so the README's test command and CI are the same
 * command and pass by themselves on a fresh Debian machine:
 *
 *  - Chromium and its French resources (browser tests: test/e2e),
 *  - FreeTDS `tsql` (an independent SQL Server client checks the TDS simulator),
 *  - unixODBC, FreeTDS's ODBC driver and Debian's python3-pyodbc (the pyodbc conformance tests run /usr/bin/python3),
 *  - PostgreSQL answering on 127.0.0.1:5432 (licence manager and remote-buffer tests; CBS_TEST_PG_URL for another server).
 *
 * What is missing and can be had (root, apt-get) is installed with apt-get; a PostgreSQL cluster that is installed
 * but stopped is started. What cannot be had gets one French line saying what to install, and the exit code is 1:
 * the suite never runs with a part of it silently skipped. When everything is there the check takes a few
 * milliseconds (file tests and one TCP connection).
 *
 * Plain Node (no tsx, no dependency): it must run fast and before anything else. The decision itself is the pure
 * function `planPrerequisites`, unit-tested in test/unit/foundation/prerequisites.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Chromium used by the browser tests (same default as test/e2e/harness.ts). */
export const chromiumPath = (env = process.env) => env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * The Debian packages the suite needs, each with what it is for (French, for the line printed when it is
 * missing) and how to see that it is there without asking dpkg (so a machine that has it another way passes).
 */
export const PACKAGES = [
  { pkg: 'chromium', what: 'Chromium, pour les tests dans le navigateur', alt: 'ou indiquez son chemin dans CHROMIUM_PATH' },
  { pkg: 'chromium-l10n', what: 'les ressources françaises de Chromium (dates jj/mm/aaaa des tests dans le navigateur)' },
  { pkg: 'freetds-bin', what: 'FreeTDS tsql, client SQL Server indépendant qui vérifie le simulateur' },
  { pkg: 'unixodbc', what: 'unixODBC, gestionnaire ODBC des tests pyodbc' },
  { pkg: 'tdsodbc', what: 'le pilote ODBC FreeTDS des tests pyodbc' },
  { pkg: 'python3-pyodbc', what: 'pyodbc pour /usr/bin/python3 (tests de conformité ODBC)' },
];

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command, env) {
  return (env.PATH ?? '').split(delimiter).some((dir) => dir && executable(join(dir, command)));
}

function anyFile(dirs, test) {
  for (const dir of dirs) {
    let names;
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    if (names.some(test)) return true;
  }
  return false;
}

/** Library folders of Debian (multiarch) and of other systems. */
function libDirs() {
  const dirs = ['/usr/lib', '/usr/lib64', '/usr/local/lib'];
  try {
    for (const d of readdirSync('/usr/lib')) if (/-linux-gnu/.test(d)) dirs.push(join('/usr/lib', d));
  } catch {
    /* not a Linux layout */
  }
  return dirs;
}

/** Which of PACKAGES are present on this machine (by their files, not by dpkg). */
export function presentPackages(env = process.env) {
  const chromium = chromiumPath(env);
  const libs = libDirs();
  const odbcDirs = libs.flatMap((d) => [join(d, 'odbc'), d]);
  const odbcinst = (() => {
    try {
      return readFileSync('/etc/odbcinst.ini', 'utf8');
    } catch {
      return '';
    }
  })();
  return {
    chromium: executable(chromium),
    // The French resources sit next to Debian's Chromium; another Chromium (CHROMIUM_PATH) brings its own.
    'chromium-l10n': env.CHROMIUM_PATH ? true : existsSync('/usr/lib/chromium/locales/fr.pak'),
    'freetds-bin': onPath('tsql', env),
    unixodbc: onPath('isql', env),
    tdsodbc: anyFile(odbcDirs, (n) => n === 'libtdsodbc.so') && /^\s*\[FreeTDS\]/m.test(odbcinst),
    'python3-pyodbc': executable('/usr/bin/python3') && anyFile(['/usr/lib/python3/dist-packages'], (n) => /^pyodbc\..*\.so$/.test(n)),
  };
}

/** Host and port of the PostgreSQL server the tests use (CBS_TEST_PG_URL, as test/support/licence/db.ts). */
export function postgresTarget(env = process.env) {
  const url = new URL(env.CBS_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres');
  return { host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(url.port || 5432), custom: !!env.CBS_TEST_PG_URL };
}

/** True when something accepts TCP connections there (within 1 s). */
export function listening({ host, port }, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The local PostgreSQL clusters' versions (Debian: /etc/postgresql/<version>/main). */
export function localClusters() {
  try {
    return readdirSync('/etc/postgresql').filter((v) => existsSync(join('/etc/postgresql', v, 'main')));
  } catch {
    return [];
  }
}

/**
 * The decision, from what is there (pure).
 * @param {{ present: Record<string, boolean>, root: boolean, apt: boolean,
 *           postgres: { running: boolean, custom: boolean, host: string, port: number, clusters: string[], ctl: boolean } }} s
 * @returns {{ install: string[], startPostgres: string | null, problems: string[] }}
 *   install: Debian packages to apt-get install; startPostgres: the cluster version to start; problems: one
 *   French line per prerequisite that cannot be had here (non-empty = the suite must not run).
 */
export function planPrerequisites(s) {
  const missing = PACKAGES.filter((p) => !s.present[p.pkg]);
  const canInstall = s.root && s.apt;
  const problems = [];
  if (!canInstall) {
    const why = !s.apt ? "apt-get n'est pas disponible sur ce poste" : "l'installation demande les droits root";
    for (const p of missing) {
      problems.push(`Prérequis des tests manquant : ${p.what} — installez le paquet Debian « ${p.pkg} » (${why} : « sudo apt-get install ${p.pkg} »)${p.alt ? `, ${p.alt}` : ''}.`);
    }
  }
  let startPostgres = null;
  const pg = s.postgres;
  if (!pg.running) {
    const where = `${pg.host}:${pg.port}`;
    if (pg.custom) {
      problems.push(`Prérequis des tests manquant : le serveur PostgreSQL de CBS_TEST_PG_URL (${where}) ne répond pas — démarrez-le ou corrigez CBS_TEST_PG_URL.`);
    } else if (pg.clusters.length === 0) {
      problems.push(
        `Prérequis des tests manquant : PostgreSQL sur ${where} — installez le paquet Debian « postgresql » avec l'utilisateur postgres sans mot de passe (méthode trust) pour 127.0.0.1, ou indiquez un autre serveur dans CBS_TEST_PG_URL.`,
      );
    } else if (!pg.ctl || !s.root) {
      problems.push(
        `Prérequis des tests manquant : PostgreSQL ne tourne pas sur ${where} — démarrez-le (« sudo pg_ctlcluster --skip-systemctl-redirect ${pg.clusters[0]} main start »).`,
      );
    } else {
      startPostgres = pg.clusters[0];
    }
  }
  return { install: canInstall ? missing.map((p) => p.pkg) : [], startPostgres, problems };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function observe(env) {
  const target = postgresTarget(env);
  return {
    present: presentPackages(env),
    root: typeof process.getuid === 'function' && process.getuid() === 0,
    apt: onPath('apt-get', env),
    postgres: { ...target, running: await listening(target), clusters: localClusters(), ctl: onPath('pg_ctlcluster', env) },
  };
}

function aptInstall(pkgs) {
  process.stdout.write(`Installation des paquets Debian nécessaires aux tests : ${pkgs.join(' ')}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const quiet = { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] };
  const update = spawnSync('apt-get', ['update', '-qq'], quiet);
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], quiet);
  if (install.status !== 0) {
    const detail = `${update.stderr ?? ''}${install.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ');
    return detail || `apt-get a rendu le code ${install.status}`;
  }
  return null;
}

async function startPostgres(version, target) {
  process.stdout.write(`Démarrage de PostgreSQL ${version} (127.0.0.1:${target.port})\n`);
  const r = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  for (let i = 0; i < 60; i++) {
    if (await listening(target)) return null;
    await sleep(500);
  }
  return (r.stderr || r.stdout || '').trim().split('\n').slice(-2).join(' | ') || 'aucune réponse après 30 s';
}

export async function main(env = process.env) {
  const before = await observe(env);
  const plan = planPrerequisites(before);
  const problems = [...plan.problems];
  if (plan.install.length > 0) {
    const failure = aptInstall(plan.install);
    const now = presentPackages(env);
    for (const p of PACKAGES.filter((x) => plan.install.includes(x.pkg) && !now[x.pkg])) {
      problems.push(`Prérequis des tests manquant : ${p.what} — l'installation du paquet Debian « ${p.pkg} » a échoué${failure ? ` (${failure})` : ''} ; installez-le puis relancez « npm test ».`);
    }
  }
  if (plan.startPostgres) {
    const failure = await startPostgres(plan.startPostgres, before.postgres);
    if (failure) problems.push(`Prérequis des tests manquant : PostgreSQL ${plan.startPostgres} n'a pas démarré sur 127.0.0.1:${before.postgres.port} (${failure}) ; démarrez-le puis relancez « npm test ».`);
  }
  for (const line of problems) process.stderr.write(`${line}\n`);
  return problems.length > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main();
}
