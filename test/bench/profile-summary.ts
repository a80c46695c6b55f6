/**
 * Summary of V8 CPU profiles written by `npm run bench -- --cpu-profile DIR`:
 * `npx tsx test/bench/profile-summary.ts DIR/*.cpuprofile [--top 25]`.
 *
 * For each profile: total sampled time, the functions with the most self time (name, file:line), and the self
 * time per origin (a package of node_modules, the project's own code, node's internals, the GC, idle), which is
 * what tells whether the time goes to hashing, zod, PGlite, the drivers or the engine itself.
 * Profiles are kept out of git (written where the caller says, e.g. under /tmp or test-output/).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function origin(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return 'program (native, outside JS)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return 'node internals';
  if (url.startsWith('wasm://')) return '@electric-sql/pglite (WASM)';
  if (url.includes('/test-output/') || url.includes('/src/') || url.includes('/test/')) return 'connector (bench bundle)';
  return url ? 'other' : 'native';
}

function short(url: string): string {
  const m = /node_modules\/(.*)$/.exec(url);
  if (m) return m[1]!;
  return url.replace(/^.*\/(test-output|src|test)\//, '$1/');
}

/** Total time (self + callees) per connector function, each sample counted once per function (recursion-safe). */
function inclusive(p: CpuProfile, self: Map<number, number>): [string, number][] {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const total = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      if (origin(cf.url, cf.functionName) !== 'connector (bench bundle)') continue;
      const key = `${cf.functionName || '(anonymous)'}  ${short(cf.url)}:${cf.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + us);
    }
  }
  return [...total].sort((a, b) => b[1] - a[1]);
}

function summarise(file: string, top: number): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const fn = new Map<string, number>();
  const org = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const key = `${cf.functionName || '(anonymous)'}  ${short(cf.url)}:${cf.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const o = origin(cf.url, cf.functionName);
    org.set(o, (org.get(o) ?? 0) + us);
    total += us;
  }
  const ms = (us: number): string => `${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const lines = [`${basename(file)} — ${(total / 1000).toFixed(0)} ms échantillonnées`, '  par origine :'];
  for (const [k, v] of [...org].sort((a, b) => b[1] - a[1])) lines.push(`    ${ms(v)}  ${k}`);
  lines.push(`  fonctions du connecteur (temps total, appelées comprises), les ${top} premières :`);
  for (const [k, v] of inclusive(p, self).slice(0, top)) lines.push(`    ${ms(v)}  ${k}`);
  lines.push(`  fonctions (temps propre), les ${top} premières :`);
  for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${ms(v)}  ${k}`);
  return lines.join('\n');
}

const args = process.argv.slice(2);
const ti = args.indexOf('--top');
const top = ti >= 0 ? Number(args[ti + 1]) : 25;
const files = args.filter((a, i) => a.endsWith('.cpuprofile') && i !== ti + 1);
for (const f of files) console.log(summarise(f, top) + '\n');
