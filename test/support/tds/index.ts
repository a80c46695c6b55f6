/**
 * SQL Server (TDS protocol) simulator for tests, benchmarks and the demo.
 *
 * Public API (stable; the Batigest gateway tests and the dataset generator code against it):
 *
 *   const backend = await createPgliteBackend();            // or createPgBackend({ connectionString })
 *   await backend.adminExec('BTG_DEMO', `CREATE TABLE "Salarie" ("Code" varchar(8) PRIMARY KEY, "Nom" varchar(60))`);
 *   const sim = await startTdsSimulator({ backend, logins: { sa: 'Secret#1' }, tls: { mode: 'on' } });
 *   // mssql: { server: sim.host, port: sim.port, user: 'sa', password: 'Secret#1', database: 'BTG_DEMO',
 *   //          options: { encrypt: true, trustServerCertificate: true } }
 *   sim.faults.failNext('deadlock', /SuiviMO/);   // next matching statement fails with 1205
 *   await sim.close(); await backend.close();
 *
 * Backends
 * - `createPgliteBackend({ dataDir? })`: one PGlite instance per database (created on first
 *   `adminExec`/`createDatabase`), transactions serialized across connections by a mutex.
 * - `createPgBackend({ connectionString })`: one PostgreSQL schema per database inside the database
 *   of the (admin) connection string; one pg client per TDS connection.
 * - `adminExec(database, sql)` runs PostgreSQL-dialect SQL directly (creates the database if
 *   needed). Create tables with DOUBLE-QUOTED ORIGINAL-CASE names (`"ChantierDef"`, `"Code"`):
 *   T-SQL identifiers are resolved case-insensitively to those names and INFORMATION_SCHEMA
 *   returns them with their original case. Use PG `boolean` for SQL Server `bit` columns,
 *   `numeric(p,s)` for decimal, `varchar(n)` for (n)varchar, `timestamp` for datetime.
 *
 * Collation: every database has one (`createDatabase(name, { collation })`, default French_CI_AS:
 * case-insensitive, accent-sensitive; French_CS_AS for a case-sensitive one), given to its character
 * columns and applied to =, LIKE, ORDER BY, GROUP BY, DISTINCT and unique keys; = ignores trailing spaces.
 *
 * Protocol: PRELOGIN (ENCRYPT_OFF → login-only TLS if the client starts a handshake, ENCRYPT_ON →
 * full TLS, ENCRYPT_NOT_SUP when `tls.mode` is 'off'), TLS 1.2 wrapped in PRELOGIN packets with a
 * self-signed certificate generated in-process (cert.ts) when none is given; LOGIN7 with SQL
 * authentication (18456 on a wrong login, 4060 on an unknown database — a real server follows
 * 4060 with 18456; the simulator sends 4060 alone so drivers surface it; tedious retries 4060 as
 * transient); SQL batches; RPC by id or name: `sp_executesql`, `sp_prepare`/`sp_execute`/`sp_prepexec`/
 * `sp_unprepare` (handles per connection), `sp_datatype_info`; 2812 for server cursors (`sp_cursor*`) and
 * other procedures; parameters and columns of every SQL Server type drivers use (NTEXT/TEXT/IMAGE, PLP,
 * money, datetimeoffset, sql_variant…); result column names and types as SQL Server reports them
 * (`SELECT *` expanded); Transaction Manager requests (mssql `Transaction`);
 * attention (cancel); RESETCONNECTION; SQL Browser UDP answer for host\INSTANCE when
 * `instanceName` is set (UDP `browserPort`, default 1434 as drivers hard-code it: bind `host` to a
 * distinct loopback address such as 127.0.0.23 in tests to avoid collisions).
 *
 * T-SQL: every statement is checked by node-sql-parser (transactsql) plus own checks (102 on
 * failure), then translated to PostgreSQL: TOP n / TOP (@p), OFFSET/FETCH, [brackets], dbo.,
 * INFORMATION_SCHEMA.COLUMNS/TABLES, GETDATE/SYSDATETIME/DATEADD/DATEDIFF/DATEPART/ISNULL/LEN/
 * CHARINDEX/CAST/CONVERT (styles 23, 103, 104, 112, 120, 121…), `+` on strings, @params,
 * multi-row VALUES, UPDATE … FROM … JOIN, DELETE, ALTER TABLE ADD, IF [NOT] EXISTS / IF @@ROWCOUNT
 * = 0, BEGIN…END, DECLARE/SET @v, BEGIN TRAN/COMMIT/ROLLBACK (statement-level atomicity through
 * savepoints), SET NOCOUNT/XACT_ABORT and other SET options, @@VERSION, @@ROWCOUNT, @@TRANCOUNT,
 * SERVERPROPERTY, DB_NAME(), COL_LENGTH, OBJECT_ID. NULLs sort
 * first in ascending ORDER BY (SQL Server order). COUNT(*) is an int, as in SQL Server. A
 * character column compared (= / <>) with an integer is converted to int (245 if it cannot be).
 * Errors carry SQL Server numbers: 102, 105, 137, 207, 208, 245, 515, 2627, 1205, 3902, 3903…
 *
 * Limitations (answered with a SQL Server error, never a hang): MERGE (rejected: use UPDATE then
 * INSERT), OUTPUT clauses, temp tables, other stored procedures (2812), SELECT @v = …, TOP in
 * UPDATE/DELETE, outer joins in UPDATE, TRY/CATCH, output parameters of sp_executesql, TDS 8
 * (`encrypt: 'strict'`, connection closed); SET DATEFORMAT/LANGUAGE are accepted but ignored. NOTES.md
 * lists what is supported and the SQL Server error a client gets for the rest.
 *
 * Test hooks: `faults.failNext('deadlock' | 'timeout' | 'drop', /statement regexp/, times)` acts on
 * the next matching statement (1205 + transaction rolled back / no answer until the driver's
 * attention / TCP reset), and `faults.fired(kind?)` says how many statements a fault acted on;
 * `stats` counts connections, batches, RPCs, statements and TLS handshakes; `capture.start()` /
 * `capture.stop()` record every SQL text clients send (the conformance corpus, test/conformance, is
 * captured so). See NOTES.md for driver quirks.
 */
export type { BackendSession, SqlBackend, AdminBackend, QueryResult, DatabaseOptions } from './backend.js';
export { createPgliteBackend, createPgBackend, DEFAULT_COLLATION, SUPPORTED_COLLATIONS } from './backend.js';
export type { CapturedStatement, TdsSimulator, TdsSimulatorOptions } from './server.js';
export { startTdsSimulator } from './server.js';
export type { BrowserInstance, SqlBrowser } from './browser.js';
export { startSqlBrowser } from './browser.js';
