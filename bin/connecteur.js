#!/usr/bin/env node
// Entry point of `npx connecteur …`: runs the built CLI (dist/) when present, otherwise the TypeScript
// sources through tsx (installed by `npm ci`).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'main', 'cli.js');
let mod;
if (existsSync(built) && !process.env.CONNECTEUR_FROM_SOURCES) {
  mod = await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(pathToFileURL(join(root, 'src', 'main', 'cli.ts')).href);
}
mod.applyMemoryProfile();
process.exitCode = await mod.runCli(process.argv.slice(2));
// Pools and timers of the services are closed by the CLI; force the exit in case a socket lingers.
setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
