/**
 * Column mapping of the Batigest tables: logical columns → real column names.
 *
 * Column names vary between Batigest versions, so each logical column has candidate names (SPEC §2), tried in
 * order against the real columns read from INFORMATION_SCHEMA.COLUMNS (case- and accent-insensitive, ignoring
 * `_` and spaces). The integrator may override a logical column with a real column name (settings
 * `sqlServer.columnOverrides`); an override is checked against the real columns — identifiers cannot be SQL
 * parameters, so only names that exist in INFORMATION_SCHEMA ever reach a statement, bracket-quoted.
 */
import { AppError } from '../../../shared/errors.js';
import type { ColumnTable, DetectedTable } from '../../../shared/contract.js';

export type ColumnKind = 'code' | 'text' | 'date' | 'timestamp' | 'number' | 'int' | 'etat';

export interface LogicalColumnSpec {
  logical: string;
  label: string;
  required: boolean;
  kind: ColumnKind;
  candidates: readonly string[];
}

export interface TableSpec {
  key: ColumnTable;
  /** Physical table name in schema dbo. */
  table: string;
  label: string;
  columns: readonly LogicalColumnSpec[];
}

const col = (logical: string, label: string, kind: ColumnKind, candidates: string[], required = false): LogicalColumnSpec => ({
  logical,
  label,
  kind,
  candidates,
  required,
});

export const TABLE_SPECS: Record<ColumnTable, TableSpec> = {
  chantier: {
    key: 'chantier',
    table: 'ChantierDef',
    label: 'chantiers',
    columns: [
      col('code', 'code chantier', 'code', ['code', 'codechantier'], true),
      col('nomClient', 'nom du client', 'text', ['nomclient', 'client', 'nom', 'raisonsociale'], true),
      col('description', 'libellé du chantier', 'text', ['description', 'libelle', 'objet', 'designation']),
      col('adresse', 'adresse du chantier', 'text', ['adrchantier', 'adressechantier', 'adresse', 'adresse1', 'adr']),
      col('codePostal', 'code postal', 'text', ['cpchantier', 'cp', 'codepostal']),
      col('ville', 'ville', 'text', ['villechantier', 'ville']),
      col('dateDebut', 'date de début', 'date', ['datedebut', 'datedeb', 'dateouverture']),
      col('dateFin', 'date de fin', 'date', ['datefin', 'datecloture']),
      col('etat', 'état', 'etat', ['etat', 'statut']),
      col('heuresVendues', "heures vendues (main-d'œuvre)", 'number', ['totalmo', 'tempsmo', 'montantmo', 'heuresvendues', 'nbheures']),
      col('montant', 'montant', 'number', ['montantht', 'totalht', 'montant']),
      col('dateModif', 'date de modification', 'timestamp', ['datemodif', 'datemodification', 'datemaj', 'datemiseajour']),
    ],
  },
  devis: {
    key: 'devis',
    table: 'Devis',
    label: 'devis',
    columns: [
      col('code', 'code devis', 'code', ['code', 'codedevis'], true),
      col('date', 'date du devis', 'date', ['date', 'datedevis', 'datecreation']),
      col('nom', 'nom du client', 'text', ['nom', 'nomclient', 'client', 'raisonsociale'], true),
      col('adresse', 'adresse', 'text', ['adr', 'adresse', 'adrchantier', 'adresse1']),
      col('codePostal', 'code postal', 'text', ['cp', 'codepostal', 'cpchantier']),
      col('ville', 'ville', 'text', ['ville', 'villechantier']),
      col('sujet', 'sujet', 'text', ['sujet', 'objet', 'libelle', 'description']),
      col('dateConcretis', 'date de concrétisation', 'date', ['dateconcretis', 'dateconcretisation', 'dateacceptation']),
      col('etat', 'état (0, 3 et 4 synchronisés)', 'int', ['etat', 'statut'], true),
      col('tempsMO', "heures de main-d'œuvre", 'number', ['tempsmo', 'totalmo', 'montantmo', 'heuresvendues']),
      col('montant', 'montant', 'number', ['montantht', 'totalht', 'montant']),
      col('dateModif', 'date de modification', 'timestamp', ['datemodif', 'datemodification', 'datemaj', 'datemiseajour']),
    ],
  },
  salarie: {
    key: 'salarie',
    table: 'Salarie',
    label: 'salariés',
    columns: [
      col('code', 'code salarié', 'code', ['code', 'codesalarie'], true),
      col('nom', 'nom', 'text', ['nom', 'nomsalarie', 'nomsal'], true),
      col('prenom', 'prénom', 'text', ['prenom', 'prenomsalarie', 'prenomsal']),
      col('codebs', 'identifiant BatiSimply (codebs)', 'text', ['codebs']),
    ],
  },
};

export const SUIVIMO_TABLE = 'SuiviMO';

export interface RealColumn {
  name: string;
  dataType: string;
  nullable: boolean;
  /** COLLATION_NAME of a character column (null otherwise or when unknown) */
  collation?: string | null;
}

/** The mapping the readers use: logical → real column name (null when absent and optional). */
export interface ResolvedMapping {
  spec: TableSpec;
  /** Real table name as in INFORMATION_SCHEMA (case preserved). */
  table: string;
  columns: Record<string, string | null>;
}

export function normaliseName(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();
}

/** `[name]` with `]` doubled. Only ever called with names read from INFORMATION_SCHEMA. */
export function quoteIdent(name: string): string {
  return `[${name.replace(/]/g, ']]')}]`;
}

/**
 * Builds the UI report of one table from its real columns (null = table absent) and the overrides.
 * Pure: no I/O.
 */
export function detectTable(
  key: ColumnTable,
  realTableName: string | null,
  realColumns: readonly RealColumn[] | null,
  overrides: Record<string, string> = {},
): DetectedTable {
  const spec = TABLE_SPECS[key];
  const warnings: string[] = [];
  const exists = realColumns !== null && realColumns.length > 0;
  const cols = realColumns ?? [];
  const byNorm = new Map<string, string>();
  for (const c of cols) if (!byNorm.has(normaliseName(c.name))) byNorm.set(normaliseName(c.name), c.name);
  const tableName = `dbo.${realTableName ?? spec.table}`;
  if (!exists) {
    warnings.push(`La table ${tableName} est introuvable dans cette base : vérifiez qu'il s'agit bien de la base de la société dans Batigest.`);
  }
  const known = new Set(spec.columns.map((c) => c.logical));
  for (const k of Object.keys(overrides)) {
    if (!known.has(k)) warnings.push(`Le réglage de colonne « ${k} » ne correspond à aucune donnée connue de la table ${spec.table} : il est ignoré.`);
  }

  const mapping = spec.columns.map((c) => {
    const found: string[] = [];
    for (const cand of c.candidates) {
      const real = byNorm.get(normaliseName(cand));
      if (real !== undefined && !found.includes(real)) found.push(real);
    }
    const detected = found[0] ?? null;
    const rawOverride = overrides[c.logical]?.trim() || null;
    let effective = detected;
    let override: string | null = null;
    if (rawOverride !== null) {
      const exact = cols.find((x) => x.name === rawOverride) ?? cols.find((x) => x.name.toLowerCase() === rawOverride.toLowerCase());
      if (exact) {
        override = exact.name;
        effective = exact.name;
      } else {
        override = rawOverride;
        effective = null;
        warnings.push(
          `La colonne « ${rawOverride} » choisie pour « ${c.label} » n'existe pas dans la table ${spec.table} : choisissez une colonne existante ou revenez à la détection automatique.`,
        );
      }
    }
    if (exists && effective === null && c.required && rawOverride === null) warnings.push(missingMessage(spec, c));
    return { logical: c.logical, label: c.label, required: c.required, detected, override, effective, candidates: found };
  });

  return { table: key, tableName, exists, columns: cols.map((c) => ({ ...c })), mapping, warnings };
}

function missingMessage(spec: TableSpec, c: LogicalColumnSpec): string {
  return (
    `Colonne « ${c.label} » introuvable dans la table ${spec.table} (noms essayés : ${c.candidates.join(', ')}). ` +
    `Choisissez la colonne à utiliser dans Réglages › Options de synchronisation › Avancé › Correspondance des colonnes.`
  );
}

/**
 * Turns a report into the mapping the readers use, or throws a clear AppError:
 * SQL_TABLE_MISSING when the table is absent, SQL_COLUMN_MISSING when a required column is missing
 * or an override names a column that does not exist.
 */
export function resolveMapping(report: DetectedTable): ResolvedMapping {
  const spec = TABLE_SPECS[report.table];
  if (!report.exists) {
    throw new AppError(
      'SQL_TABLE_MISSING',
      `La table ${spec.table} est introuvable dans la base Batigest : vérifiez que la base choisie est bien celle de la société.`,
      { detail: `table ${report.tableName} not found in INFORMATION_SCHEMA.COLUMNS` },
    );
  }
  const columns: Record<string, string | null> = {};
  for (const m of report.mapping) {
    const c = spec.columns.find((x) => x.logical === m.logical);
    if (!c) continue;
    if (m.override !== null && m.effective === null) {
      throw new AppError(
        'SQL_COLUMN_MISSING',
        `La colonne « ${m.override} » choisie pour « ${c.label} » n'existe pas dans la table ${spec.table} : corrigez le choix dans Réglages › Options de synchronisation › Avancé › Correspondance des colonnes.`,
        { detail: `override ${spec.table}.${m.logical} -> ${m.override} not found` },
      );
    }
    if (m.effective === null && c.required) {
      throw new AppError('SQL_COLUMN_MISSING', missingMessage(spec, c), {
        detail: `required column ${spec.table}.${m.logical} not found; candidates ${c.candidates.join('|')}`,
      });
    }
    columns[m.logical] = m.effective;
  }
  const realTable = report.tableName.startsWith('dbo.') ? report.tableName.slice(4) : report.tableName;
  return { spec, table: realTable, columns };
}
