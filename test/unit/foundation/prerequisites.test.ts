/**
 * scripts/prerequisites.mjs, run first by `npm test`: the decision (pure) for each situation, and the script
 * itself on a machine where nothing can be installed (one French line per missing prerequisite, exit 1).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PACKAGES, planPrerequisites, type PrerequisiteState } from '../../../scripts/prerequisites.mjs';

const allPresent = Object.fromEntries(PACKAGES.map((p) => [p.pkg, true]));
const pgRunning = { running: true, custom: false, host: '127.0.0.1', port: 5432, clusters: ['15'], ctl: true };
const state = (over: Partial<PrerequisiteState> & { missing?: string[]; pg?: Partial<PrerequisiteState['postgres']> } = {}): PrerequisiteState => ({
  present: { ...allPresent, ...Object.fromEntries((over.missing ?? []).map((p) => [p, false])) },
  root: over.root ?? true,
  apt: over.apt ?? true,
  postgres: { ...pgRunning, ...over.pg },
});

describe('test prerequisites: the decision', () => {
  it('names what the suite needs: Chromium and its French resources, FreeTDS, the ODBC packages of the pyodbc tests', () => {
    expect(PACKAGES.map((p) => p.pkg)).toEqual(['chromium', 'chromium-l10n', 'freetds-bin', 'unixodbc', 'tdsodbc', 'python3-pyodbc']);
  });

  it('everything there: nothing to do', () => {
    expect(planPrerequisites(state())).toEqual({ install: [], startPostgres: null, problems: [] });
  });

  it('root on Debian: installs exactly what is missing and starts a stopped PostgreSQL', () => {
    expect(planPrerequisites(state({ missing: ['chromium', 'tdsodbc'], pg: { running: false } }))).toEqual({
      install: ['chromium', 'tdsodbc'],
      startPostgres: '15',
      problems: [],
    });
  });

  it('not root: one French line per missing package, saying what to install; nothing installed', () => {
    const plan = planPrerequisites(state({ root: false, missing: ['chromium', 'freetds-bin', 'python3-pyodbc'] }));
    expect(plan.install).toEqual([]);
    expect(plan.problems).toEqual([
      "Prérequis des tests manquant : Chromium, pour les tests dans le navigateur — installez le paquet Debian « chromium » (l'installation demande les droits root : « sudo apt-get install chromium »), ou indiquez son chemin dans CHROMIUM_PATH.",
      "Prérequis des tests manquant : FreeTDS tsql, client SQL Server indépendant qui vérifie le simulateur — installez le paquet Debian « freetds-bin » (l'installation demande les droits root : « sudo apt-get install freetds-bin »).",
      "Prérequis des tests manquant : pyodbc pour /usr/bin/python3 (tests de conformité ODBC) — installez le paquet Debian « python3-pyodbc » (l'installation demande les droits root : « sudo apt-get install python3-pyodbc »).",
    ]);
  });

  it('no apt-get (not Debian): the line says so', () => {
    const plan = planPrerequisites(state({ apt: false, missing: ['chromium-l10n'] }));
    expect(plan.install).toEqual([]);
    expect(plan.problems).toEqual([expect.stringMatching(/^Prérequis des tests manquant : les ressources françaises de Chromium .* — installez le paquet Debian « chromium-l10n » \(apt-get n'est pas disponible sur ce poste/)]);
  });

  it('PostgreSQL: stopped without root, not installed, or the CBS_TEST_PG_URL server down — one line each, never started', () => {
    expect(planPrerequisites(state({ root: false, pg: { running: false } }))).toMatchObject({
      startPostgres: null,
      problems: [expect.stringMatching(/PostgreSQL ne tourne pas sur 127\.0\.0\.1:5432 — démarrez-le \(« sudo pg_ctlcluster --skip-systemctl-redirect 15 main start »\)/)],
    });
    expect(planPrerequisites(state({ pg: { running: false, clusters: [] } }))).toMatchObject({
      startPostgres: null,
      problems: [expect.stringMatching(/PostgreSQL sur 127\.0\.0\.1:5432 — installez le paquet Debian « postgresql »/)],
    });
    expect(planPrerequisites(state({ pg: { running: false, custom: true, host: 'db.local', port: 5433 } }))).toMatchObject({
      startPostgres: null,
      problems: ['Prérequis des tests manquant : le serveur PostgreSQL de CBS_TEST_PG_URL (db.local:5433) ne répond pas — démarrez-le ou corrigez CBS_TEST_PG_URL.'],
    });
  });
});

describe('test prerequisites: the script', () => {
  it('is the first step of `npm test`, and .ci/run runs exactly the README commands', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.test).toMatch(/^node scripts\/prerequisites\.mjs && /);
    const ci = readFileSync('.ci/run', 'utf8')
      .split('\n')
      .filter((l) => !/^\s*#/.test(l));
    expect(ci.filter((l) => /^\s*npm /.test(l))).toEqual(['npm ci && npm test']);
    expect(ci.join('\n')).not.toMatch(/ELECTRON_SKIP_BINARY_DOWNLOAD|apt-get|pg_ctlcluster/);
    expect(readFileSync('README.md', 'utf8')).toContain('npm ci && npm test');
  });

  it('where nothing can be installed: one French line per missing prerequisite, exit 1, no stack trace', () => {
    // No apt-get nor tsql on PATH, a Chromium that is not there, a PostgreSQL that does not answer.
    const r = spawnSync(process.execPath, ['scripts/prerequisites.mjs'], {
      encoding: 'utf8',
      env: { PATH: '/nonexistent', CHROMIUM_PATH: '/nonexistent/chromium', CBS_TEST_PG_URL: 'postgres://postgres@127.0.0.1:1/postgres' },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^Prérequis des tests manquant : Chromium, .*« chromium »/)]));
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/« freetds-bin »/), expect.stringMatching(/« unixodbc »/)]));
    expect(lines[lines.length - 1]).toBe('Prérequis des tests manquant : le serveur PostgreSQL de CBS_TEST_PG_URL (127.0.0.1:1) ne répond pas — démarrez-le ou corrigez CBS_TEST_PG_URL.');
    for (const l of lines) expect(l).toMatch(/^Prérequis des tests manquant : .+\.$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
