/**
 * Entry point of the licence manager (vendor side): `npm run license-manager -- <command>`.
 *
 *   serve (default)   apply migrations, then serve the API and the admin pages
 *   migrate           apply migrations and exit
 *   hash-password     read a password on stdin, print its scrypt hash (LM_ADMIN_PASSWORD_HASH)
 *   generate-keys     print a new Ed25519 key pair (PEM)
 *   sql               print the migrations as one re-runnable script (Supabase SQL editor)
 */
import { createInterface } from 'node:readline';
import pg from 'pg';
import { loadConfig } from './config.js';
import { installLastResortHandlers } from './last-resort.js';
import { migrationScript, runMigrations } from './migrations.js';
import { generateSigningKeyPair, hashPassword } from './security.js';
import { createLicenseManager } from './server.js';

const log = {
  info: (msg: string, fields?: Record<string, unknown>) => console.log(JSON.stringify({ t: new Date().toISOString(), level: 'info', msg, ...fields })),
  error: (msg: string, fields?: Record<string, unknown>) => console.error(JSON.stringify({ t: new Date().toISOString(), level: 'error', msg, ...fields })),
};

async function readLine(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  process.stderr.write(prompt);
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'serve';
  if (command === 'hash-password') {
    const pw = await readLine('Mot de passe administrateur : ');
    if (pw.length < 12) throw new Error('Le mot de passe doit contenir au moins 12 caractères.');
    console.log(await hashPassword(pw));
    return;
  }
  if (command === 'generate-keys') {
    const k = generateSigningKeyPair();
    console.log(k.privateKeyPem + k.publicKeyPem);
    return;
  }
  if (command === 'sql') {
    process.stdout.write(migrationScript());
    return;
  }
  const config = loadConfig(process.env);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  // An idle connection cut by the server (restart, failover) must not take the process down.
  pool.on('error', (e) => log.error('connexion PostgreSQL inactive perdue', { err: e.message }));
  const applied = await runMigrations(pool);
  if (applied.length) log.info('migrations appliquées', { versions: applied });
  if (command === 'migrate') {
    await pool.end();
    return;
  }
  if (command !== 'serve') throw new Error(`Commande inconnue : ${command}`);
  // What escapes every request handler is logged and the service keeps serving (see last-resort.ts).
  installLastResortHandlers({ logger: log });
  const lm = createLicenseManager({ config, pool, logger: log });
  const addr = await lm.listen();
  log.info('gestionnaire de licences démarré', { url: addr.url });
  const stop = () => {
    log.info('arrêt');
    void lm.close().then(() => pool.end()).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  log.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
