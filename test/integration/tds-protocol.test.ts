/**
 * TDS simulator, protocol side: encryption negotiation and certificates as the mssql driver sees
 * them, login errors, concurrency, attention/timeouts, dropped connections, SQL Browser
 * (host\INSTANCE) and an independent client (FreeTDS tsql).
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import sql from 'mssql';
import { Connection } from 'tedious';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminBackend, type TdsSimulator, createPgliteBackend, startTdsSimulator } from '../support/tds/index.js';
import { loadSample } from '../support/tds/sample.js';

const DB = 'BTG_PROTO';
const USER = 'batigest';
const PASSWORD = "Pa$$w0rd d'été";
let backend: AdminBackend;
let plain: TdsSimulator;
let secure: TdsSimulator;

beforeAll(async () => {
  backend = await createPgliteBackend();
  await loadSample(backend, DB);
  plain = await startTdsSimulator({ backend, logins: { [USER]: PASSWORD }, tls: { mode: 'off' } });
  secure = await startTdsSimulator({ backend, logins: { [USER]: PASSWORD }, tls: { mode: 'on' }, serverVersion: '16.0.1000' });
});

afterAll(async () => {
  await plain?.close();
  await secure?.close();
  await backend?.close();
});

function cfg(sim: TdsSimulator, extra: Partial<sql.config> & { options?: sql.config['options'] } = {}): sql.config {
  return {
    server: sim.host,
    port: sim.port,
    user: USER,
    password: PASSWORD,
    database: DB,
    connectionTimeout: 10_000,
    requestTimeout: 10_000,
    ...extra,
    options: { encrypt: false, trustServerCertificate: false, ...(extra.options ?? {}) },
  };
}

async function withPool<T>(config: sql.config, fn: (p: sql.ConnectionPool) => Promise<T>): Promise<T> {
  const pool = await new sql.ConnectionPool(config).connect();
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}

/** Logs in with tedious directly and collects the ERROR token numbers of the login response. */
function tediousLogin(sim: TdsSimulator, user: string, password: string, database: string): Promise<{ numbers: number[]; error?: Error }> {
  return new Promise((resolve) => {
    const numbers: number[] = [];
    const c = new Connection({
      server: sim.host,
      authentication: { type: 'default', options: { userName: user, password } },
      options: { port: sim.port, database, encrypt: false, connectTimeout: 10_000 },
    });
    c.on('errorMessage', (t) => numbers.push(t.number));
    c.connect((err) => {
      c.close();
      resolve({ numbers, ...(err ? { error: err } : {}) });
    });
  });
}

describe('encryption', () => {
  it('connects without encryption (encrypt: false)', async () => {
    const v = await withPool(cfg(plain), (p) => p.request().query('SELECT DB_NAME() AS db, SERVERPROPERTY(\'ProductVersion\') AS v'));
    expect(v.recordset[0]).toEqual({ db: DB, v: '15.0.2000' });
  });

  it('connects over TLS with encrypt: true and trustServerCertificate: true', async () => {
    const before = secure.stats.tlsHandshakes;
    const r = await withPool({ ...cfg(secure, { options: { encrypt: true, trustServerCertificate: true } }), pool: { max: 5, min: 0 } }, async (p) => {
      const a = await p.request().input('n', sql.NVarChar, 'é'.repeat(5000)).query('SELECT LEN(@n) AS l, @@VERSION AS v');
      // several encrypted connections at once
      const many = await Promise.all(Array.from({ length: 10 }, (_, i) => p.request().input('i', sql.Int, i).query('SELECT @i AS i, Nom FROM Salarie WHERE Code = \'S001\'')));
      expect(many.map((m) => m.recordset[0].i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      return a.recordset[0];
    });
    expect(r.l).toBe(5000);
    expect(r.v).toMatch(/^Microsoft SQL Server 2022 .*16\.0\.1000/);
    expect(secure.stats.tlsHandshakes - before).toBeGreaterThanOrEqual(2);
  });

  it('refuses the self-signed certificate with encrypt: true and trustServerCertificate: false', async () => {
    const err = await new sql.ConnectionPool(cfg(secure, { options: { encrypt: true, trustServerCertificate: false } }))
      .connect()
      .then(() => null, (e: unknown) => e as sql.ConnectionError);
    expect(err).toBeInstanceOf(sql.ConnectionError);
    expect(err!.code).toBe('ESOCKET');
    expect(err!.message).toMatch(/self[- ]signed certificate/);
  });

  it('accepts a client that does not encrypt against a TLS-capable server (login in clear, as ENCRYPT_OFF allows)', async () => {
    const before = secure.stats.tlsHandshakes;
    const r = await withPool(cfg(secure, { options: { encrypt: false } }), (p) => p.request().query('SELECT COUNT(*) AS n FROM Salarie'));
    expect(r.recordset[0].n).toBe(3);
    expect(secure.stats.tlsHandshakes).toBe(before);
  });
});

describe('non-TDS-7 clients', () => {
  it('closes a connection that starts with a TLS ClientHello instead of PRELOGIN (TDS 8 strict) rather than hanging', async () => {
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect(secure.port, secure.host, () => s.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])));
      s.on('close', () => resolve(true));
      s.on('error', () => undefined);
    });
    expect(closed).toBe(true);
  });
});

describe('login', () => {
  it('wrong password → 18456 Login failed', async () => {
    const r = await tediousLogin(plain, USER, 'mauvais', DB);
    expect(r.numbers).toEqual([18456]);
    expect(r.error?.message).toBe(`Login failed for user '${USER}'.`);
    const viaMssql = await new sql.ConnectionPool({ ...cfg(plain), password: 'mauvais' }).connect().then(() => null, (e: unknown) => e as sql.ConnectionError);
    expect(viaMssql?.code).toBe('ELOGIN');
  });

  it('unknown login → 18456', async () => {
    const r = await tediousLogin(plain, 'inconnu', PASSWORD, DB);
    expect(r.numbers).toEqual([18456]);
  });

  it('unknown database → 4060 Cannot open database', async () => {
    const r = await tediousLogin(plain, USER, PASSWORD, 'BTG_ABSENTE');
    // 4060 is transient for drivers: tedious retries the login, every attempt gets 4060
    expect(r.numbers.length).toBeGreaterThanOrEqual(1);
    expect(new Set(r.numbers)).toEqual(new Set([4060]));
    expect(r.error?.message).toBe('Cannot open database "BTG_ABSENTE" requested by the login. The login failed.');
  });

  it('database names are case-insensitive at login', async () => {
    const r = await withPool({ ...cfg(plain), database: DB.toLowerCase() }, (p) => p.request().query('SELECT DB_NAME() AS db'));
    expect(r.recordset[0].db).toBe(DB);
  });
});

describe('connections and requests', () => {
  it('serves a pool of 5 concurrent connections', async () => {
    const before = plain.stats.connections;
    const results = await withPool({ ...cfg(plain), pool: { max: 5, min: 0 } }, async (p) => {
      const tasks = Array.from({ length: 25 }, (_, i) =>
        (async () => {
          const tx = new sql.Transaction(p);
          await tx.begin();
          const r = await new sql.Request(tx).input('i', sql.Int, i).query('SELECT @i * 2 AS v, @@SPID AS spid');
          await tx.commit();
          return r.recordset[0] as { v: number; spid: number };
        })(),
      );
      return Promise.all(tasks);
    });
    expect(results.map((r) => r.v)).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
    expect(new Set(results.map((r) => r.spid)).size).toBe(5);
    expect(plain.stats.connections - before).toBeGreaterThanOrEqual(5);
  });

  it('a request that never answers times out, the driver sends an attention, the connection stays usable', async () => {
    await withPool({ ...cfg(plain), requestTimeout: 500, pool: { max: 1, min: 0 } }, async (p) => {
      plain.faults.failNext('timeout', /FROM ChantierDef/);
      const err = await p.request().query('SELECT Code FROM ChantierDef').then(() => null, (e: unknown) => e as sql.RequestError);
      expect(err?.code).toBe('ETIMEOUT');
      const r = await p.request().query('SELECT COUNT(*) AS n FROM ChantierDef');
      expect(r.recordset[0].n).toBe(3);
    });
  });

  it('a dropped connection (TCP reset) fails the request and the pool reconnects', async () => {
    // a reset, not a FIN: with a FIN tedious 19 raises an unhandled rejection
    // ("No event 'socketError' in state 'Final'"), which vitest would report for this file
    await withPool({ ...cfg(plain), pool: { max: 1, min: 0 } }, async (p) => {
      plain.faults.failNext('drop', /Salarie/);
      const err = await p.request().query('SELECT Code FROM Salarie').then(() => null, (e: unknown) => e as sql.RequestError);
      expect(err?.code).toBe('ECONNRESET');
      expect(err?.message).toMatch(/ECONNRESET/);
      const r = await p.request().query('SELECT COUNT(*) AS n FROM Salarie');
      expect(r.recordset[0].n).toBe(3);
    });
  });

  it('counts batches, RPCs and statements', async () => {
    const sim = await startTdsSimulator({ backend, logins: { [USER]: PASSWORD } });
    try {
      await withPool(cfg(sim), async (p) => {
        await p.request().batch('SELECT 1; SELECT 2');
        await p.request().input('x', sql.Int, 1).query('SELECT @x');
      });
      expect(sim.stats.connections).toBeGreaterThanOrEqual(1);
      expect(sim.stats.rpcs).toBeGreaterThanOrEqual(1); // ours + the pool's validation queries
      expect(sim.stats.batches).toBe(sim.stats.connections + 1); // the driver's initial SET batch per connection + ours
      expect(sim.stats.statements).toBe(sim.stats.rpcs + 2);
      sim.stats.reset();
      expect(sim.stats.statements).toBe(0);
    } finally {
      await sim.close();
    }
  });
});

describe('SQL Browser (host\\INSTANCE)', () => {
  it('resolves the instance port over UDP 1434 like a real SQL Server Browser', async () => {
    const host = `127.0.${1 + Math.floor(Math.random() * 200)}.${2 + Math.floor(Math.random() * 250)}`;
    const sim = await startTdsSimulator({ backend, host, logins: { [USER]: PASSWORD }, instanceName: 'SQLEXPRESS' });
    try {
      expect(sim.browserPort).toBe(1434);
      const r = await withPool(
        { server: host, user: USER, password: PASSWORD, database: DB, options: { instanceName: 'sqlexpress', encrypt: false } },
        (p) => p.request().query('SELECT DB_NAME() AS db'),
      );
      expect(r.recordset[0].db).toBe(DB);
      const err = await new sql.ConnectionPool({
        server: host,
        user: USER,
        password: PASSWORD,
        database: DB,
        connectionTimeout: 3000,
        options: { instanceName: 'AUTRE', encrypt: false },
      })
        .connect()
        .then(() => null, (e: unknown) => e as sql.ConnectionError);
      expect(err?.code).toBe('EINSTLOOKUP');
    } finally {
      await sim.close();
    }
  });
});

function runTsql(sim: TdsSimulator, input: string, password = PASSWORD): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn('tsql', ['-H', sim.host, '-p', String(sim.port), '-U', USER, '-P', password, '-D', DB], {
      env: { ...process.env, TDSVER: '7.4' },
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    p.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    p.on('error', reject);
    p.on('close', (code) => resolve({ out, code }));
    p.stdin.end(input);
  });
}

describe('FreeTDS tsql (independent client)', () => {
  it('logs in and runs a query (no encryption)', async () => {
    const r = await runTsql(plain, "SELECT Code, Nom FROM dbo.Salarie WHERE Code = 'S002'\ngo\nexit\n");
    expect(r.out).toMatch(/S002\s+N'Diaye/);
  });

  it('logs in through TLS (login packet encrypted) and runs a query', async () => {
    const before = secure.stats.tlsHandshakes;
    const r = await runTsql(secure, "SELECT COUNT(*) AS n FROM ChantierDef WHERE Etat = 'E'\ngo\nexit\n");
    expect(r.out).toMatch(/^\s*2\s*$/m);
    expect(secure.stats.tlsHandshakes).toBe(before + 1);
  });

  it('reports a failed login', async () => {
    const r = await runTsql(plain, 'SELECT 1\ngo\nexit\n', 'faux');
    expect(r.out).toMatch(/Login failed for user/);
    expect(r.out).toMatch(/18456/);
  });
});
