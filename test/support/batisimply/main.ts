/**
 * Runs the BatiSimply simulator on its own (demo, manual tests):
 *   npx tsx test/support/batisimply/main.ts [--projects 50] [--users 8] [--days 60] [--latency 0] [--seed 1]
 * Prints the SSO and API URLs and the credentials it accepts; stops on Ctrl+C.
 */
import { generateBatisimplySeed, SIM_DEFAULT_CREDENTIALS, startBatisimplySimulator } from './index.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) ? v : dflt;
}

const sim = await startBatisimplySimulator({
  latencyMs: arg('latency', 0),
  seed: generateBatisimplySeed({
    seed: arg('seed', 1),
    projects: arg('projects', 50),
    userCount: arg('users', 8),
    days: arg('days', 60),
    until: new Date(new Date().toISOString().slice(0, 10)),
  }),
});
process.stdout.write(
  `${JSON.stringify({ ssoUrl: sim.ssoUrl, apiUrl: sim.apiUrl, ...SIM_DEFAULT_CREDENTIALS, password: SIM_DEFAULT_CREDENTIALS.password }, null, 2)}\n`,
);
const stop = () => {
  void sim.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
