// Types of scripts/start.mjs (plain Node, so that `npm start` needs nothing built), for the tests.
import type { spawnSync } from 'node:child_process';

export function electronPackageDir(root: string): string;
export function electronBinary(dir: string): string | null;
export function installFailureReason(output: string): string;
export function electronMissingSentence(reason: string): string;
export function ensureElectron(
  dir: string,
  env?: NodeJS.ProcessEnv,
  run?: typeof spawnSync,
): { ok: true; binary: string; installed: boolean } | { ok: false; sentence: string };
