/**
 * Makes build/buffer-template.tar.gz (+ .json): an empty PGlite database folder, unpacked when an embedded
 * buffer is created (see src/main/services/buffer/template.ts). The files are generated, not kept in git.
 *
 *   npx tsx scripts/make-buffer-template.ts              made when missing or made by another PGlite version
 *   npx tsx scripts/make-buffer-template.ts --force      made again in any case
 *   npx tsx scripts/make-buffer-template.ts --postinstall as the root postinstall of `npm ci`: a failure is
 *       reported in one line and does not fail the install (the buffer then falls back to an in-memory initdb)
 *
 * Run by `npm ci` (postinstall), so that running from sources (demo, `npm run try`, bridge, tests) creates its
 * buffers from the template like a packaged build, and by `npm run build` before packaging.
 *
 * initdb peaks at ~770 MB: it runs here, in this short-lived process, once per PGlite version.
 */
import { PGlite } from '@electric-sql/pglite';
import { statSync } from 'node:fs';
import { EMBEDDED_SERVER_PARAMS } from '../src/main/services/buffer/db.js';
import { BUNDLED_BUFFER_TEMPLATE, templateProblem, writeBufferTemplate } from '../src/main/services/buffer/template.js';

const args = process.argv.slice(2);
const force = args.includes('--force');
const postinstall = args.includes('--postinstall');

try {
  const problem = templateProblem(BUNDLED_BUFFER_TEMPLATE);
  if (!force && problem === null) {
    if (!postinstall) process.stdout.write(`Modèle de base tampon à jour : ${BUNDLED_BUFFER_TEMPLATE}\n`);
  } else {
    const info = await writeBufferTemplate(BUNDLED_BUFFER_TEMPLATE, [...PGlite.defaultStartParams, ...EMBEDDED_SERVER_PARAMS]);
    process.stdout.write(
      `Modèle de base tampon écrit : ${BUNDLED_BUFFER_TEMPLATE} (${Math.round(statSync(BUNDLED_BUFFER_TEMPLATE).size / 1024)} Ko, PGlite ${info.pglite})\n`,
    );
  }
} catch (e) {
  const why = e instanceof Error ? e.message : String(e);
  if (!postinstall) {
    process.stderr.write(`Le modèle de base tampon n'a pas pu être écrit : ${why}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `Le modèle de base tampon n'a pas pu être préparé (${why}) : l'installation continue, et la première base tampon intégrée sera créée en mémoire (plus lent, ~770 Mo) ; « npm run build:buffer-template » le refait.\n`,
  );
}
