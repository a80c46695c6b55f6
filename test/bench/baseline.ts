/**
 * BASELINE for the benchmark: the reference connector's algorithm (SPEC §4), written against the same
 * drivers as the engine so the comparison is about the algorithm, not the plumbing:
 *  - SQL Server through `mssql` with the gateway's own connection config (`buildMssqlConfig`);
 *  - BatiSimply through the same `BatisimplyClient` (same paths, HTTP pool, token handling);
 *  - its buffer ("base tampon") in the same kind of PostgreSQL database as the engine's.
 *
 * What it does, like the reference:
 *  - push: marks every buffered chantier unsynced, reads all ChantierDef rows, upserts each into the
 *    buffer (one round trip per row), then POSTs every unsynced record to BatiSimply, one by one, and
 *    marks it synced (one round trip per row). Nothing is compared: every run POSTs everything again
 *    (on the real API that creates duplicates; the simulator refuses them with 400, still one call each).
 *  - hours: lists the time slots of the window, stores each in the buffer, then for each VALIDATED slot:
 *    looks up the salarié by codebs (1), looks for the SuiviMO row (2), then UPDATEs or INSERTs it (3);
 *    1 to 3 SQL round trips per slot, no batching, no transaction.
 * Never used by the product: benchmark only.
 */
import sql from 'mssql';
import type { ConnectionPool } from 'mssql';
import type { ChantierSource, ProjectInput } from '../../src/shared/domain.js';
import type { Settings, SqlServerSettings } from '../../src/shared/settings.js';
import { buildMssqlConfig } from '../../src/main/services/batigest/config.js';
import type { BatisimplyClient } from '../../src/main/services/batisimply/client.js';
import type { BufferDb } from '../../src/main/services/buffer/db.js';
import { mapChantier, normaliseCode } from '../../src/main/services/sync/mapping.js';

export interface BaselineStats {
  /** Requests sent to SQL Server (batches/RPCs). */
  sqlRoundTrips: number;
  /** Queries sent to the buffer database. */
  bufferQueries: number;
  /** POSTs answered with an error (duplicates refused by the simulator). */
  postErrors: number;
  created: number;
  hoursWritten: number;
  skipped: number;
}

const ymd = (v: unknown): string | null => {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  const s = String(v);
  return /^\d{4}-\d{2}-\d{2}/.test(s) ? s.slice(0, 10) : null;
};
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number(v));

function parisDay(iso: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(iso));
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export class ReferenceConnector {
  readonly stats: BaselineStats = { sqlRoundTrips: 0, bufferQueries: 0, postErrors: 0, created: 0, hoursWritten: 0, skipped: 0 };
  private pool: ConnectionPool | null = null;

  constructor(
    private readonly d: {
      sqlServer: SqlServerSettings;
      projectDefaults: Settings['batisimply']['project'];
      client: BatisimplyClient;
      buffer: BufferDb;
    },
  ) {}

  private async q<T = Record<string, unknown>>(text: string, params: (string | number | boolean | null | Date)[] = []): Promise<T[]> {
    this.stats.bufferQueries++;
    return this.d.buffer.query<T>(text, params);
  }

  private async sqlPool(): Promise<ConnectionPool> {
    if (!this.pool) {
      this.pool = new sql.ConnectionPool(buildMssqlConfig(this.d.sqlServer, { max: 1 }));
      this.stats.sqlRoundTrips++;
      await this.pool.connect();
    }
    return this.pool;
  }

  async init(): Promise<void> {
    await this.q(`CREATE TABLE IF NOT EXISTS ref_chantiers (code text PRIMARY KEY, payload text NOT NULL, synced boolean NOT NULL DEFAULT false)`);
    await this.q(`CREATE TABLE IF NOT EXISTS ref_heures (id text PRIMARY KEY, payload text NOT NULL, synced boolean NOT NULL DEFAULT false)`);
  }

  /** Batigest → buffer → BatiSimply, the reference way. */
  async pushAll(): Promise<void> {
    await this.q('UPDATE ref_chantiers SET synced = false');
    const pool = await this.sqlPool();
    this.stats.sqlRoundTrips++;
    const r = await pool
      .request()
      .query(
        'SELECT [Code], [NomClient], [Description], [AdrChantier], [CPChantier], [VilleChantier], [DateDebut], [DateFin], [Etat], [TotalMO], [MontantHT], [DateModif] FROM [dbo].[ChantierDef]',
      );
    for (const row of r.recordset as Record<string, unknown>[]) {
      const src: ChantierSource = {
        code: normaliseCode(str(row.Code)),
        nomClient: str(row.NomClient),
        description: str(row.Description),
        adresse: str(row.AdrChantier),
        codePostal: str(row.CPChantier),
        ville: str(row.VilleChantier),
        dateDebut: ymd(row.DateDebut),
        dateFin: ymd(row.DateFin),
        etat: str(row.Etat),
        heuresVendues: num(row.TotalMO),
        montant: num(row.MontantHT),
        dateModif: null,
      };
      await this.q(`INSERT INTO ref_chantiers (code, payload, synced) VALUES ($1, $2, false) ON CONFLICT (code) DO UPDATE SET payload = EXCLUDED.payload, synced = false`, [
        src.code,
        JSON.stringify(src),
      ]);
    }
    const pending = await this.q<{ code: string; payload: string }>('SELECT code, payload FROM ref_chantiers WHERE synced = false ORDER BY code');
    for (const p of pending) {
      const m = mapChantier(JSON.parse(p.payload) as ChantierSource, this.d.projectDefaults);
      if (!m.ok) {
        this.stats.skipped++;
        continue;
      }
      try {
        await this.d.client.createProject(m.input as ProjectInput);
        this.stats.created++;
      } catch {
        this.stats.postErrors++;
      }
      await this.q('UPDATE ref_chantiers SET synced = true WHERE code = $1', [p.code]);
    }
  }

  /** BatiSimply → buffer → SuiviMO, the reference way. */
  async hoursAll(window: { start: Date; end: Date }): Promise<void> {
    const slots = await this.d.client.listTimeSlots(window);
    for (const s of slots) {
      await this.q(`INSERT INTO ref_heures (id, payload, synced) VALUES ($1, $2, false) ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload, synced = false`, [
        s.id,
        JSON.stringify(s),
      ]);
    }
    const pool = await this.sqlPool();
    const codeById = new Map<string, string | null>();
    for (const s of slots) {
      if (s.managementStatus !== 'VALIDATED') continue;
      let code = normaliseCode(s.project?.projectCode ?? null) || null;
      if (!code && s.project) {
        if (!codeById.has(s.project.id)) codeById.set(s.project.id, normaliseCode((await this.d.client.getProject(s.project.id))?.projectCode) || null);
        code = codeById.get(s.project.id) ?? null;
      }
      // (1) the salarié of this BatiSimply user
      this.stats.sqlRoundTrips++;
      const sal = await pool.request().input('uuid', sql.NVarChar(64), s.user.id).query('SELECT [Code] FROM [dbo].[Salarie] WHERE [codebs] = @uuid');
      const codeSal = (sal.recordset[0] as { Code?: string } | undefined)?.Code;
      if (!codeSal || !code) {
        this.stats.skipped++; // "Aucun utilisateur trouvé"
        continue;
      }
      const day = parisDay(s.startDate);
      const nbH0 = Math.round((s.totalTimeMinutes / 60) * 100) / 100;
      const req = () =>
        pool
          .request()
          .input('c', sql.NVarChar(8), code)
          .input('s', sql.NVarChar(8), codeSal)
          .input('d', sql.Date, new Date(`${day}T00:00:00Z`))
          .input('h0', sql.Decimal(18, 4), nbH0)
          .input('h3', sql.Int, s.hasHomeToWorkJourney ? 1 : 0)
          .input('h4', sql.Int, s.hasPackedLunch ? 1 : 0);
      // (2) is there a row already?
      this.stats.sqlRoundTrips++;
      const exists = await req().query('SELECT [NbH0] FROM [dbo].[SuiviMO] WHERE [CodeChantier] = @c AND [CodeSalarie] = @s AND [Date] = @d');
      // (3) update or insert it
      this.stats.sqlRoundTrips++;
      if (exists.recordset.length > 0) {
        await req().query('UPDATE [dbo].[SuiviMO] SET [NbH0] = @h0, [NbH3] = @h3, [NbH4] = @h4 WHERE [CodeChantier] = @c AND [CodeSalarie] = @s AND [Date] = @d');
      } else {
        await req().query('INSERT INTO [dbo].[SuiviMO] ([CodeChantier], [CodeSalarie], [Date], [NbH0], [NbH3], [NbH4]) VALUES (@c, @s, @d, @h0, @h3, @h4)');
      }
      this.stats.hoursWritten++;
      await this.q('UPDATE ref_heures SET synced = true WHERE id = $1', [s.id]);
    }
  }

  async close(): Promise<void> {
    await this.pool?.close().catch(() => undefined);
    this.pool = null;
  }
}
