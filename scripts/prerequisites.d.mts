// Types of scripts/prerequisites.mjs (plain Node, run first by `npm test`), for the tests.
export interface PrerequisitePackage {
  pkg: string;
  what: string;
  alt?: string;
}
export interface PrerequisiteState {
  present: Record<string, boolean>;
  root: boolean;
  apt: boolean;
  postgres: { running: boolean; custom: boolean; host: string; port: number; clusters: string[]; ctl: boolean };
}
export interface PrerequisitePlan {
  install: string[];
  startPostgres: string | null;
  problems: string[];
}
export const PACKAGES: readonly PrerequisitePackage[];
export function chromiumPath(env?: NodeJS.ProcessEnv): string;
export function presentPackages(env?: NodeJS.ProcessEnv): Record<string, boolean>;
export function postgresTarget(env?: NodeJS.ProcessEnv): { host: string; port: number; custom: boolean };
export function listening(target: { host: string; port: number }, timeoutMs?: number): Promise<boolean>;
export function localClusters(): string[];
export function planPrerequisites(s: PrerequisiteState): PrerequisitePlan;
export function main(env?: NodeJS.ProcessEnv): Promise<number>;
