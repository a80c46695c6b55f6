/**
 * Makes build/buffer-template.tar.gz (+ .json): an empty PGlite database folder, unpacked by the app when it
 * creates its embedded buffer (see src/main/services/buffer/template.ts). Part of `npm run build`; the files
 * are generated, not kept in git.
 *
 *   npx tsx scripts/make-buffer-template.ts
 */
import { PGlite } from '@electric-sql/pglite';
import { statSync } from 'node:fs';
import { EMBEDDED_SERVER_PARAMS } from '../src/main/services/buffer/db.js';
import { BUNDLED_BUFFER_TEMPLATE, writeBufferTemplate } from '../src/main/services/buffer/template.js';

const info = await writeBufferTemplate(BUNDLED_BUFFER_TEMPLATE, [...PGlite.defaultStartParams, ...EMBEDDED_SERVER_PARAMS]);
process.stdout.write(`Modèle de base tampon écrit : ${BUNDLED_BUFFER_TEMPLATE} (${Math.round(statSync(BUNDLED_BUFFER_TEMPLATE).size / 1024)} Ko, PGlite ${info.pglite})\n`);
