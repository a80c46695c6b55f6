/**
 * Manual check: starts the TDS simulator on a PGlite backend with the sample Batigest tables.
 *   npx tsx test/support/tds/serve.ts [--port 14330] [--tls] [--instance SQLEXPRESS] [--db BTG_DEMO]
 * then e.g.: TDSVER=7.4 tsql -H 127.0.0.1 -p 14330 -U sa -P 'Simu#2024' -D BTG_DEMO
 */
import { parseArgs } from 'node:util';
import { createPgliteBackend, startTdsSimulator } from './index.js';
import { loadSample } from './sample.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '14330' },
    host: { type: 'string', default: '127.0.0.1' },
    tls: { type: 'boolean', default: false },
    instance: { type: 'string' },
    db: { type: 'string', default: 'BTG_DEMO' },
    user: { type: 'string', default: 'sa' },
    password: { type: 'string', default: 'Simu#2024' },
  },
});

const backend = await createPgliteBackend();
await loadSample(backend, values.db);
const sim = await startTdsSimulator({
  backend,
  host: values.host,
  port: Number(values.port),
  logins: { [values.user]: values.password },
  tls: { mode: values.tls ? 'on' : 'off' },
  ...(values.instance ? { instanceName: values.instance } : {}),
});
process.stdout.write(
  `TDS simulator on ${sim.host}:${sim.port}${sim.browserPort ? ` (SQL Browser UDP ${sim.browserPort}, instance ${values.instance})` : ''}\n` +
    `login ${values.user} / ${values.password}, database ${values.db}, TLS ${values.tls ? 'on' : 'off'}. Ctrl+C to stop.\n`,
);
const stop = async (): Promise<void> => {
  await sim.close();
  await backend.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
