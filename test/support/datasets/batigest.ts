/**
 * Batigest dataset generator: a sample company (ChantierDef, Devis, Salarie, SuiviMO) with realistic French data,
 * deterministic from a seed, in two column-naming variants, and a fast loader into a SQL backend.
 *
 * - `generateBatigestCompany(opts)` returns plain data (no I/O); same options → same data.
 * - `loadBatigestCompany(backend, database, data)` creates the tables (PostgreSQL dialect, unqualified
 *   double-quoted mixed-case names, as the TDS simulator expects) and bulk-loads rows with multi-row INSERTs.
 * - `batisimplyUsersFor(data)` gives the BatiSimply users matching the salariés (to seed the BatiSimply simulator).
 */

export type BatigestVariant = 'v1' | 'v2';

export interface BatigestCompanyOptions {
  seed: number | string;
  chantiers: number;
  devis: number;
  salaries: number;
  suiviMo: number;
  variant: BatigestVariant;
  /** Whether the Salarie table has the custom `codebs` column (the employee mapping). */
  withCodebs: boolean;
  /** BatiSimply user ids to give to the first salariés (in order); the others get generated UUIDs. */
  batisimplyUserIds?: string[];
  /**
   * A company with this many years of chantiers ending at `today` (issue 18): start dates spread over the years,
   * old ones finished ('T') or closed ('C'), recent ones open. Without it, the dates of the original generator.
   */
  historyYears?: number;
  /** YYYY-MM-DD, the last day of the history (default 2026-07-15). */
  today?: string;
}

export interface GenChantier {
  code: string;
  nomClient: string;
  description: string | null;
  adresse: string | null;
  codePostal: string | null;
  ville: string | null;
  /** YYYY-MM-DD */
  dateDebut: string;
  dateFin: string | null;
  /** 'E' en cours, 'T' terminé, 'A' en attente, 'P' prospect, 'C' clôturé (history companies) */
  etat: string;
  heuresVendues: number | null;
  montant: number;
  /** YYYY-MM-DDTHH:MM:SS (local time of the server, no zone) */
  dateModif: string;
}

export interface GenDevis {
  code: string;
  /** YYYY-MM-DD */
  date: string;
  nom: string;
  adresse: string | null;
  codePostal: string | null;
  ville: string | null;
  sujet: string | null;
  dateConcretis: string | null;
  /** 0..5; only 0, 3 and 4 are synced. */
  etat: number;
  tempsMO: number | null;
  montant: number;
  dateModif: string;
  /** Code of the chantier the devis belongs to (Devis.CodeChantier / Devis.Chantier), null when unlinked. */
  chantier: string | null;
}

export interface GenSalarie {
  code: string;
  nom: string;
  prenom: string;
  /** What the Salarie.codebs column holds (null when not mapped, or when the column does not exist). */
  codebs: string | null;
  /** The id of the matching user in the BatiSimply world (always set, mapped or not). */
  batisimplyUserId: string;
  email: string;
}

export interface GenSuiviMo {
  codeChantier: string;
  codeSalarie: string;
  /** YYYY-MM-DD */
  date: string;
  nbH0: number;
  nbH3: 0 | 1;
  nbH4: 0 | 1;
}

export interface BatigestCompany {
  options: BatigestCompanyOptions;
  variant: BatigestVariant;
  withCodebs: boolean;
  chantiers: GenChantier[];
  devis: GenDevis[];
  salaries: GenSalarie[];
  suiviMo: GenSuiviMo[];
}

// ---------------------------------------------------------------------------------------------------------------
// Column names per variant (the physical schema). Keys are the logical names used by the gateway.

type ColType = 'code' | 'text' | 'shorttext' | 'postcode' | 'timestamp' | 'etatchar' | 'etatint' | 'hours' | 'money' | 'uuid';
interface ColDef {
  name: string;
  type: ColType;
}

export const BATIGEST_COLUMNS = {
  v1: {
    chantier: {
      code: 'Code', nomClient: 'NomClient', description: 'Description', adresse: 'AdrChantier',
      codePostal: 'CPChantier', ville: 'VilleChantier', dateDebut: 'DateDebut', dateFin: 'DateFin', etat: 'Etat',
      heuresVendues: 'TotalMO', montant: 'MontantHT', dateModif: 'DateModif',
    },
    devis: {
      code: 'Code', date: 'Date', nom: 'Nom', adresse: 'Adr', codePostal: 'CP', ville: 'Ville', sujet: 'Sujet',
      dateConcretis: 'DateConcretis', etat: 'Etat', tempsMO: 'TempsMO', montant: 'MontantHT', dateModif: 'DateModif',
      chantier: 'CodeChantier',
    },
    salarie: { code: 'Code', nom: 'Nom', prenom: 'Prenom', codebs: 'codebs' },
  },
  v2: {
    chantier: {
      code: 'Code', nomClient: 'Client', description: 'Libelle', adresse: 'Adresse', codePostal: 'CodePostal',
      ville: 'Ville', dateDebut: 'DateDebut', dateFin: 'DateFin', etat: 'Etat', heuresVendues: 'TempsMO',
      montant: 'Montant', dateModif: 'DateModification',
    },
    devis: {
      code: 'Code', date: 'DateDevis', nom: 'Client', adresse: 'Adresse', codePostal: 'CodePostal', ville: 'Ville',
      sujet: 'Objet', dateConcretis: 'DateConcretisation', etat: 'Etat', tempsMO: 'TotalMO', montant: 'Montant',
      dateModif: 'DateModification', chantier: 'Chantier',
    },
    salarie: { code: 'Code', nom: 'NomSalarie', prenom: 'PrenomSalarie', codebs: 'codebs' },
  },
} as const;

const CHANTIER_TYPES: Record<keyof (typeof BATIGEST_COLUMNS)['v1']['chantier'], ColType> = {
  code: 'code', nomClient: 'shorttext', description: 'text', adresse: 'text', codePostal: 'postcode',
  ville: 'shorttext', dateDebut: 'timestamp', dateFin: 'timestamp', etat: 'etatchar', heuresVendues: 'hours',
  montant: 'money', dateModif: 'timestamp',
};
const DEVIS_TYPES: Record<keyof (typeof BATIGEST_COLUMNS)['v1']['devis'], ColType> = {
  code: 'code', date: 'timestamp', nom: 'shorttext', adresse: 'text', codePostal: 'postcode', ville: 'shorttext',
  sujet: 'text', dateConcretis: 'timestamp', etat: 'etatint', tempsMO: 'hours', montant: 'money',
  dateModif: 'timestamp', chantier: 'code',
};

const PG_TYPES: Record<ColType, string> = {
  code: 'varchar(8)',
  text: 'varchar(120)',
  shorttext: 'varchar(60)',
  postcode: 'varchar(10)',
  timestamp: 'timestamp',
  etatchar: 'varchar(1)',
  etatint: 'smallint',
  hours: 'numeric(12,2)',
  money: 'numeric(14,2)',
  uuid: 'varchar(64)',
};

// ---------------------------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32 over an FNV-1a hash of the seed).

function hashSeed(seed: number | string): number {
  const s = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class SeededRandom {
  private state: number;
  constructor(seed: number | string) {
    this.state = hashSeed(seed) || 0x9e3779b9;
  }
  /** Float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    const v = items[Math.floor(this.next() * items.length)];
    if (v === undefined) throw new Error('pick from an empty list');
    return v;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  uuid(): string {
    const hex: string[] = [];
    for (let i = 0; i < 32; i++) hex.push(this.int(0, 15).toString(16));
    hex[12] = '4';
    hex[16] = ((this.int(0, 15) & 0x3) | 0x8).toString(16);
    const h = hex.join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// French vocabulary

const PRENOMS = [
  'Bénédicte', 'Hélène', 'Jérôme', 'François', 'Loïc', 'Gaëlle', 'Noël', 'Zoé', 'Anaïs', 'Chloé', 'Théo',
  'Clément', 'Léa', 'Cécile', 'Agnès', 'Stéphane', 'Frédéric', 'Aurélien', 'Jean-Noël', 'Marie-Thérèse',
  'Joël', 'Raphaël', 'Maëlle', 'Séverine', 'André', 'Jean-Pierre', 'Thierry', 'Nathalie', 'Karim', 'Sébastien',
] as const;
const NOMS = [
  'Dupré-Lefèvre', "L'Hôpital", 'Lemaître', 'Bénard', 'Gauthier', 'Rivière', "N'Diaye", "O'Neil", 'Lefèvre',
  'Leroy', 'Fournier', 'Girard', 'Mercier', 'Faure', 'Guérin', 'Chevalier', 'Legrand', 'Brunet', 'Perrin',
  'Lacroix', 'Dubois', 'Moreau', 'Garnier', 'de La Fontaine', 'Crémieux', 'Bœuf', 'Çelik', "D'Almeida",
  'Lévêque', 'Müller',
] as const;
const SOCIETES = [
  'SCI Les Tilleuls', "SARL L'Atelier du Bâtiment", 'Copropriété « Le Belvédère »', 'EHPAD Les Glycines',
  'Mairie de Saint-Étienne', "Hôtel de l'Étoile", 'SAS Boulangerie Pâtissière Noël', "Crèche L'Île aux Enfants",
  'Syndic Foncia Rhône', "Cabinet d'Architecture Hébert & Fils", 'Commune de Bourg-en-Bresse', 'Lycée Honoré-d’Urfé',
] as const;
const TRAVAUX = [
  'Rénovation salle de bains', 'Extension maison individuelle', 'Ravalement de façade', 'Réfection toiture',
  'Isolation des combles', "Création d'une véranda", 'Mise aux normes électriques', 'Aménagement de combles',
  'Carrelage et faïence', 'Peinture intérieure', "Réhabilitation d'un corps de ferme", 'Pose de menuiseries PVC',
  'Démolition cloisons & reprise plâtrerie', 'Terrassement et VRD', 'Maçonnerie garage « double »',
] as const;
const VOIES = [
  "rue de l'Église", 'avenue Jean-Jaurès', 'chemin des Crêtes', 'impasse du Moulin', "place de l'Hôtel-de-Ville",
  'boulevard Saint-Michel', 'allée des Châtaigniers', 'route de Génève', "quai de l'Yser", 'rue du Général-de-Gaulle',
  'lieu-dit « Les Prés »', 'rue Pasteur', 'cours Émile-Zola', 'rue des Écoles',
] as const;
const VILLES: readonly (readonly [string, string])[] = [
  ['69001', 'Lyon'], ['42000', 'Saint-Étienne'], ['38000', 'Grenoble'], ['73000', 'Chambéry'],
  ['01000', 'Bourg-en-Bresse'], ['74000', 'Annecy'], ['26000', 'Valence'], ['63000', 'Clermont-Ferrand'],
  ['13100', 'Aix-en-Provence'], ['75011', 'Paris'], ['33000', 'Bordeaux'], ['06000', 'Nice'], ['05000', 'Gap'],
  ['94240', "L'Haÿ-les-Roses"], ['38080', "L'Isle-d'Abeau"], ['74500', 'Évian-les-Bains'], ['85350', "L'Île-d'Yeu"],
  ['64500', 'Saint-Jean-de-Luz'], ['07000', 'Privas'], ['71100', 'Chalon-sur-Saône'],
];
const ALPHA_PREFIXES = ['REN', 'CHA', 'SAV', 'ENT', 'TRV'] as const;

export function padCode(n: number): string {
  return String(n).padStart(8, '0');
}

const DAY_MS = 86_400_000;
const BASE_DAY = Date.UTC(2024, 0, 1);

function isoDate(dayOffset: number): string {
  return new Date(BASE_DAY + dayOffset * DAY_MS).toISOString().slice(0, 10);
}
function isoTimestamp(dayOffset: number, seconds: number): string {
  return new Date(BASE_DAY + dayOffset * DAY_MS + seconds * 1000).toISOString().slice(0, 19);
}
function asciiSlug(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/œ/g, 'oe')
    .replace(/[^A-Za-z0-9]+/g, '')
    .toLowerCase();
}
function round(n: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(n * f) / f;
}

function personName(rng: SeededRandom): { prenom: string; nom: string } {
  return { prenom: rng.pick(PRENOMS), nom: rng.pick(NOMS) };
}
function clientName(rng: SeededRandom): string {
  if (rng.chance(0.4)) return rng.pick(SOCIETES);
  const { prenom, nom } = personName(rng);
  return rng.chance(0.5) ? `M. et Mme ${nom}` : `${prenom} ${nom}`;
}
function address(rng: SeededRandom): { adresse: string; codePostal: string; ville: string } {
  const [cp, ville] = rng.pick(VILLES);
  const num = rng.int(1, 180);
  const bis = rng.chance(0.1) ? ' bis' : '';
  return { adresse: `${num}${bis} ${rng.pick(VOIES)}`, codePostal: cp, ville };
}

/** Unique code per index: mostly numeric zero-padded to 8, some alphanumeric (3 letters + 5 digits). */
function codeFor(rng: SeededRandom, i: number, base: number, alphaShare: number): string {
  if (rng.chance(alphaShare)) return `${rng.pick(ALPHA_PREFIXES)}${String(i).padStart(5, '0')}`;
  return padCode(base + i * 3 + rng.int(0, 2));
}

export function generateBatigestCompany(opts: BatigestCompanyOptions): BatigestCompany {
  for (const k of ['chantiers', 'devis', 'salaries', 'suiviMo'] as const) {
    if (!Number.isInteger(opts[k]) || opts[k] < 0 || opts[k] > 1_000_000) throw new Error(`invalid count ${k}`);
  }
  if (opts.suiviMo > 0 && (opts.chantiers === 0 || opts.salaries === 0)) {
    throw new Error('SuiviMO rows need at least one chantier and one salarié');
  }
  if (opts.chantiers > 99_999 || opts.devis > 99_999) throw new Error('at most 99,999 chantiers/devis');
  const rng = new SeededRandom(opts.seed);

  const chantiers: GenChantier[] = [];
  for (let i = 0; i < opts.chantiers; i++) {
    const addr = address(rng);
    const debut = rng.int(0, 900);
    const etat = rng.pick(['E', 'E', 'E', 'E', 'T', 'A', 'P'] as const);
    chantiers.push({
      code: codeFor(rng, i, 1000, 0.1),
      nomClient: clientName(rng),
      description: rng.chance(0.95) ? rng.pick(TRAVAUX) : null,
      adresse: rng.chance(0.95) ? addr.adresse : null,
      codePostal: addr.codePostal,
      ville: addr.ville,
      dateDebut: isoDate(debut),
      dateFin: etat === 'T' || rng.chance(0.5) ? isoDate(debut + rng.int(5, 300)) : null,
      etat,
      heuresVendues: rng.chance(0.95) ? rng.int(16, 4000) / 2 : null,
      montant: round(rng.int(50_000, 50_000_000) / 100, 2),
      dateModif: isoTimestamp(debut + rng.int(0, 60), rng.int(0, 86_399)),
    });
  }

  const devis: GenDevis[] = [];
  for (let i = 0; i < opts.devis; i++) {
    const addr = address(rng);
    const day = rng.int(0, 900);
    const etat = rng.int(0, 5);
    devis.push({
      code: codeFor(rng, i, 500, 0.05),
      date: isoDate(day),
      nom: clientName(rng),
      adresse: rng.chance(0.9) ? addr.adresse : null,
      codePostal: addr.codePostal,
      ville: addr.ville,
      sujet: rng.chance(0.95) ? rng.pick(TRAVAUX) : null,
      dateConcretis: etat === 4 ? isoDate(day + rng.int(1, 90)) : null,
      etat,
      tempsMO: rng.chance(0.9) ? rng.int(4, 2000) / 4 : null,
      montant: round(rng.int(10_000, 20_000_000) / 100, 2),
      dateModif: isoTimestamp(day + rng.int(0, 30), rng.int(0, 86_399)),
      chantier: null,
    });
  }
  // Issue 18, with generators of their own so the rows above stay what they were for a given seed.
  if (opts.historyYears !== undefined) spreadHistory(chantiers, opts.historyYears, opts.today ?? '2026-07-15', new SeededRandom(`${opts.seed}:history`));
  linkDevis(devis, chantiers, new SeededRandom(`${opts.seed}:links`));

  const salaries: GenSalarie[] = [];
  const usedSalCodes = new Set<string>();
  for (let i = 0; i < opts.salaries; i++) {
    const { prenom, nom } = personName(rng);
    let code: string;
    if (i % 3 === 0) {
      // initials, like 'JP' in the reference's documentation, made unique with a number
      const initials = (asciiSlug(prenom).slice(0, 1) + asciiSlug(nom).slice(0, 1)).toUpperCase();
      code = initials;
      for (let n = 2; usedSalCodes.has(code); n++) code = `${initials}${n}`;
    } else {
      code = padCode(i + 1);
    }
    usedSalCodes.add(code);
    const userId = opts.batisimplyUserIds?.[i] ?? rng.uuid();
    const mapped = opts.withCodebs && (opts.batisimplyUserIds?.[i] !== undefined || rng.chance(0.85));
    salaries.push({
      code,
      nom,
      prenom,
      codebs: mapped ? userId : null,
      batisimplyUserId: userId,
      email: `${asciiSlug(prenom)}.${asciiSlug(nom)}.${i + 1}@exemple-btp.fr`,
    });
  }

  const suiviMo: GenSuiviMo[] = [];
  if (opts.suiviMo > 0) {
    const days = Math.max(365, Math.ceil((3 * opts.suiviMo) / (opts.chantiers * opts.salaries)));
    const seen = new Set<string>();
    while (suiviMo.length < opts.suiviMo) {
      const ch = chantiers[rng.int(0, chantiers.length - 1)];
      const sa = salaries[rng.int(0, salaries.length - 1)];
      if (!ch || !sa) throw new Error('unreachable');
      const date = isoDate(rng.int(0, days - 1));
      const key = `${ch.code}|${sa.code}|${date}`;
      if (seen.has(key)) continue;
      seen.add(key);
      suiviMo.push({
        codeChantier: ch.code,
        codeSalarie: sa.code,
        date,
        nbH0: rng.int(2, 44) / 4,
        nbH3: rng.chance(0.6) ? 1 : 0,
        nbH4: rng.chance(0.7) ? 1 : 0,
      });
    }
  }

  return { options: { ...opts }, variant: opts.variant, withCodebs: opts.withCodebs, chantiers, devis, salaries, suiviMo };
}

/**
 * Devis linked to chantiers: about 85 % linked, drawn so that many chantiers get several devis (a few
 * chantiers take most of them), the others unlinked (devis never accepted, or made before the chantier existed).
 */
function linkDevis(devis: GenDevis[], chantiers: readonly GenChantier[], rng: SeededRandom): void {
  if (chantiers.length === 0) return;
  for (const d of devis) {
    if (!rng.chance(0.85)) continue;
    // two draws, the smaller index: earlier chantiers get more devis (several per chantier)
    const i = Math.min(rng.int(0, chantiers.length - 1), rng.int(0, chantiers.length - 1));
    d.chantier = chantiers[i]?.code ?? null;
  }
}

/** Spreads the chantiers over `years` years ending at `today`: old ones finished or closed, recent ones open. */
function spreadHistory(chantiers: GenChantier[], years: number, today: string, rng: SeededRandom): void {
  const end = Date.parse(`${today}T00:00:00Z`);
  const span = Math.max(1, Math.round(years * 365.25));
  const day = (t: number): string => new Date(t).toISOString().slice(0, 10);
  for (const c of chantiers) {
    const start = end - rng.int(0, span) * DAY_MS;
    const duration = rng.int(5, 240) * DAY_MS;
    const finish = start + duration;
    c.dateDebut = day(start);
    if (finish < end - 30 * DAY_MS) {
      // ended: mostly finished, some closed (soldé), a few abandoned prospects
      c.etat = rng.pick(['T', 'T', 'C', 'C', 'C', 'P'] as const);
      c.dateFin = rng.chance(0.9) ? day(finish) : null;
      c.dateModif = `${day(Math.min(end, finish + rng.int(0, 20) * DAY_MS))}T${String(rng.int(7, 18)).padStart(2, '0')}:15:00`;
    } else {
      c.etat = rng.pick(['E', 'E', 'E', 'A', 'P'] as const);
      c.dateFin = rng.chance(0.4) ? day(finish) : null;
      c.dateModif = `${day(Math.min(end, start + rng.int(0, 10) * DAY_MS))}T09:30:00`;
    }
  }
}

/** BatiSimply users matching the salariés (one per salarié, mapped or not), for the BatiSimply simulator. */
export function batisimplyUsersFor(data: BatigestCompany): {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  login: string;
  activated: boolean;
  salarieCode: string;
  mapped: boolean;
}[] {
  return data.salaries.map((s) => ({
    id: s.batisimplyUserId,
    firstName: s.prenom,
    lastName: s.nom,
    email: s.email,
    login: s.email,
    activated: true,
    salarieCode: s.code,
    mapped: s.codebs !== null,
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Loader (PostgreSQL dialect through the simulator backend's adminExec)

export interface AdminExecBackend {
  adminExec(database: string, sql: string): Promise<void>;
}

function qi(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
/** PostgreSQL literal (standard_conforming_strings = on). */
export function pgLiteral(v: string | number | null): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('non-finite number');
    return String(v);
  }
  if (v.includes('\0')) throw new Error('NUL in string');
  return `'${v.replace(/'/g, "''")}'`;
}

function tableDdl(table: string, cols: ColDef[], notNull: string[]): string {
  const body = cols.map((c) => `${qi(c.name)} ${PG_TYPES[c.type]}${notNull.includes(c.name) ? ' NOT NULL' : ''}`);
  return `CREATE TABLE ${qi(table)} (${body.join(', ')})`;
}

export function chantierColumns(variant: BatigestVariant): ColDef[] {
  const names = BATIGEST_COLUMNS[variant].chantier;
  return (Object.keys(CHANTIER_TYPES) as (keyof typeof CHANTIER_TYPES)[]).map((k) => ({ name: names[k], type: CHANTIER_TYPES[k] }));
}
export function devisColumns(variant: BatigestVariant): ColDef[] {
  const names = BATIGEST_COLUMNS[variant].devis;
  return (Object.keys(DEVIS_TYPES) as (keyof typeof DEVIS_TYPES)[]).map((k) => ({ name: names[k], type: DEVIS_TYPES[k] }));
}

/**
 * DDL statements (PostgreSQL) creating the four Batigest tables, without their primary keys: loading first and
 * adding the keys afterwards (`batigestKeyStatements`) is about 3× faster than inserting into indexed tables.
 */
export function batigestDdl(variant: BatigestVariant, withCodebs: boolean): string[] {
  const sal = BATIGEST_COLUMNS[variant].salarie;
  const salCols: ColDef[] = [
    { name: sal.code, type: 'code' },
    { name: sal.nom, type: 'shorttext' },
    { name: sal.prenom, type: 'shorttext' },
  ];
  if (withCodebs) salCols.push({ name: sal.codebs, type: 'uuid' });
  return [
    `DROP TABLE IF EXISTS "SuiviMO", "Salarie", "Devis", "ChantierDef"`,
    tableDdl('ChantierDef', chantierColumns(variant), ['Code']),
    tableDdl('Devis', devisColumns(variant), ['Code']),
    tableDdl('Salarie', salCols, [sal.code]),
    `CREATE TABLE "SuiviMO" ("CodeChantier" varchar(8) NOT NULL, "CodeSalarie" varchar(8) NOT NULL, ` +
      `"Date" timestamp NOT NULL, "NbH0" numeric(18,4) NOT NULL DEFAULT 0, "NbH3" numeric(5,2) NOT NULL DEFAULT 0, ` +
      `"NbH4" numeric(5,2) NOT NULL DEFAULT 0)`,
  ];
}

/** Primary keys of the four tables (run after the bulk load). */
export function batigestKeyStatements(variant: BatigestVariant): string[] {
  return [
    `ALTER TABLE "ChantierDef" ADD PRIMARY KEY ("Code")`,
    `ALTER TABLE "Devis" ADD PRIMARY KEY ("Code")`,
    `ALTER TABLE "Salarie" ADD PRIMARY KEY (${qi(BATIGEST_COLUMNS[variant].salarie.code)})`,
    `ALTER TABLE "SuiviMO" ADD PRIMARY KEY ("CodeChantier", "CodeSalarie", "Date")`,
  ];
}

/** Multi-row INSERT statements, `chunk` rows each. */
export function insertStatements(
  table: string,
  columns: string[],
  rows: readonly (readonly (string | number | null)[])[],
  chunk = 2000,
): string[] {
  const out: string[] = [];
  const head = `INSERT INTO ${qi(table)} (${columns.map(qi).join(', ')}) VALUES `;
  for (let i = 0; i < rows.length; i += chunk) {
    const parts: string[] = [];
    for (const r of rows.slice(i, i + chunk)) parts.push(`(${r.map(pgLiteral).join(', ')})`);
    out.push(head + parts.join(', '));
  }
  return out;
}

export function batigestInsertStatements(data: BatigestCompany, chunk = 2000): string[] {
  const v = data.variant;
  const ch = BATIGEST_COLUMNS[v].chantier;
  const dv = BATIGEST_COLUMNS[v].devis;
  const sa = BATIGEST_COLUMNS[v].salarie;
  const chKeys = Object.keys(CHANTIER_TYPES) as (keyof typeof CHANTIER_TYPES)[];
  const dvKeys = Object.keys(DEVIS_TYPES) as (keyof typeof DEVIS_TYPES)[];
  const salCols: string[] = [sa.code, sa.nom, sa.prenom];
  if (data.withCodebs) salCols.push(sa.codebs);
  return [
    ...insertStatements('ChantierDef', chKeys.map((k) => ch[k]), data.chantiers.map((r) => chKeys.map((k) => r[k])), chunk),
    ...insertStatements('Devis', dvKeys.map((k) => dv[k]), data.devis.map((r) => dvKeys.map((k) => r[k])), chunk),
    ...insertStatements(
      'Salarie',
      salCols,
      data.salaries.map((s) => (data.withCodebs ? [s.code, s.nom, s.prenom, s.codebs] : [s.code, s.nom, s.prenom])),
      chunk,
    ),
    ...insertStatements(
      'SuiviMO',
      ['CodeChantier', 'CodeSalarie', 'Date', 'NbH0', 'NbH3', 'NbH4'],
      data.suiviMo.map((r) => [r.codeChantier, r.codeSalarie, r.date, r.nbH0, r.nbH3, r.nbH4]),
      chunk,
    ),
  ];
}

/** Creates the Batigest tables in `database` and loads `data` (replaces existing tables). */
export async function loadBatigestCompany(backend: AdminExecBackend, database: string, data: BatigestCompany): Promise<void> {
  for (const ddl of batigestDdl(data.variant, data.withCodebs)) await backend.adminExec(database, ddl);
  for (const ins of batigestInsertStatements(data)) await backend.adminExec(database, ins);
  for (const key of batigestKeyStatements(data.variant)) await backend.adminExec(database, key);
}
