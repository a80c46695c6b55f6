/**
 * Domain types shared by the services and the UI. Plain data, validated with zod where they cross a boundary.
 */
import { z } from 'zod';
import { hasUnstorable } from './text.js';

/**
 * An identifier from outside, as text; refused when it holds a character the buffer cannot store (an altered id
 * would no longer match the item next time). The message is French: it goes into the item's journal line.
 */
const externalId = <T extends z.ZodType<string>>(s: T) => s.refine((v) => !hasUnstorable(v), { message: 'caractère nul ou illisible' });

/** A chantier as read from Batigest (ChantierDef), after column mapping. */
export const chantierSourceSchema = z.object({
  /** Batigest code, trimmed; numeric codes zero-padded to 8. */
  code: z.string(),
  nomClient: z.string().nullable(),
  description: z.string().nullable(),
  adresse: z.string().nullable(),
  codePostal: z.string().nullable(),
  ville: z.string().nullable(),
  /** YYYY-MM-DD */
  dateDebut: z.string().nullable(),
  dateFin: z.string().nullable(),
  etat: z.string().nullable(),
  heuresVendues: z.number().nullable(),
  montant: z.number().nullable(),
  /** ISO timestamp of the last modification in Batigest when the table has one. */
  dateModif: z.string().nullable(),
});
export type ChantierSource = z.infer<typeof chantierSourceSchema>;

/** A devis as read from Batigest (Devis, Etat IN (0,3,4)). */
export const devisSourceSchema = z.object({
  code: z.string(),
  date: z.string().nullable(),
  nom: z.string().nullable(),
  adresse: z.string().nullable(),
  codePostal: z.string().nullable(),
  ville: z.string().nullable(),
  sujet: z.string().nullable(),
  dateConcretis: z.string().nullable(),
  etat: z.number().nullable(),
  tempsMO: z.number().nullable(),
  montant: z.number().nullable(),
  dateModif: z.string().nullable(),
});
export type DevisSource = z.infer<typeof devisSourceSchema>;

/** An employee (Salarie). `codebs` is the BatiSimply user UUID when mapped. */
export const salarieSchema = z.object({
  code: z.string(),
  nom: z.string(),
  prenom: z.string().nullable(),
  codebs: z.string().nullable(),
});
export type Salarie = z.infer<typeof salarieSchema>;

/** Key of a SuiviMO row. */
export const suiviMoKeySchema = z.object({
  codeChantier: z.string(),
  codeSalarie: z.string(),
  /** YYYY-MM-DD (local date in the configured timezone). */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
});
export type SuiviMoKey = z.infer<typeof suiviMoKeySchema>;

export const suiviMoRowSchema = suiviMoKeySchema.extend({
  nbH0: z.number(),
  nbH3: z.number().int().min(0).max(1),
  nbH4: z.number().int().min(0).max(1),
});
export type SuiviMoRow = z.infer<typeof suiviMoRowSchema>;

/**
 * One change to apply to SuiviMO. `upsert` writes the row at its key (insert or update);
 * `move` removes the row at `from` and writes `row` at its key; `delete` removes the row at `key`.
 */
export type SuiviMoOp =
  | { kind: 'upsert'; row: SuiviMoRow }
  | { kind: 'move'; from: SuiviMoKey; row: SuiviMoRow }
  | { kind: 'delete'; key: SuiviMoKey };

/** A BatiSimply project as the connector writes it. */
export const projectAddressSchema = z.object({
  street: z.string().nullable().optional(),
  postalCode: z.string().nullable().optional(),
  city: z.string().nullable().optional(),
  countryCode: z.string().nullable().optional(),
  googleFormattedAddress: z.string().nullable().optional(),
  geoPoint: z.object({ xLon: z.number(), yLat: z.number() }).nullable().optional(),
});

export const projectInputSchema = z.object({
  projectCode: z.string(),
  projectName: z.string(),
  customerName: z.string().nullable().optional(),
  comment: z.string().nullable().optional(),
  address: projectAddressSchema.nullable().optional(),
  budget: z.object({ amount: z.number(), currency: z.string() }).nullable().optional(),
  hoursSold: z.number().nullable().optional(),
  startEstimated: z.string().nullable().optional(),
  endEstimated: z.string().nullable().optional(),
  headQuarter: z.object({ id: z.union([z.string(), z.number()]) }).nullable().optional(),
  projectManager: z.string().nullable().optional(),
  isArchived: z.boolean().optional(),
  isFinished: z.boolean().optional(),
  projectColor: z.string().nullable().optional(),
});
export type ProjectInput = z.infer<typeof projectInputSchema>;

export const projectSchema = projectInputSchema.extend({
  id: externalId(z.union([z.string(), z.number()]).transform(String)),
  /** Last modification in BatiSimply when the API gives it. */
  lastModifiedDate: z.string().nullable().optional(),
});
export type Project = z.infer<typeof projectSchema>;

export const MANAGEMENT_STATUSES = ['VALIDATED', 'PENDING', 'REJECTED', 'DRAFT', 'SUBMITTED'] as const;

export const timeSlotSchema = z.object({
  id: externalId(z.union([z.string(), z.number()]).transform(String)),
  /** UTC ISO timestamps. */
  startDate: z.string(),
  endDate: z.string(),
  user: z.object({
    id: externalId(z.string()),
    firstName: z.string().nullable().optional(),
    lastName: z.string().nullable().optional(),
    email: z.string().nullable().optional(),
  }),
  project: z
    .object({ id: z.union([z.string(), z.number()]).transform(String), projectCode: z.string().nullable().optional() })
    .nullable(),
  managementStatus: z.string(),
  totalTimeMinutes: z.number(),
  hasPackedLunch: z.boolean().default(false),
  hasHomeToWorkJourney: z.boolean().default(false),
  lastModifiedDate: z.string().nullable().optional(),
});
export type TimeSlot = z.infer<typeof timeSlotSchema>;

export const batisimplyUserSchema = z.object({
  id: externalId(z.string()),
  firstName: z.string().nullable().optional(),
  lastName: z.string().nullable().optional(),
  email: z.string().nullable().optional(),
  login: z.string().nullable().optional(),
  activated: z.boolean().optional(),
});
export type BatisimplyUser = z.infer<typeof batisimplyUserSchema>;

/** Result of a "Tester la connexion" button: French, for the user. */
export const connectionDiagnosisSchema = z.object({
  ok: z.boolean(),
  /** Error code when not ok (see ERROR_CODES). */
  code: z.string().nullable(),
  /** One French sentence: what was found, or what is wrong and what to do. */
  message: z.string(),
  /** Extra facts to display (server version, database, user count…). */
  details: z.record(z.string(), z.string()).default({}),
});
export type ConnectionDiagnosis = z.infer<typeof connectionDiagnosisSchema>;

export const syncFlowSchema = z.enum(['push', 'hours', 'imports', 'all']);
export type SyncFlow = z.infer<typeof syncFlowSchema>;

/** Progress of a long operation, sent as an event to the renderer and drawn as a bar in the CLI. */
export const progressEventSchema = z.object({
  runId: z.string(),
  flow: z.enum(['push', 'hours', 'imports']),
  phase: z.string(),
  /** French label of the phase. */
  label: z.string(),
  done: z.number().int().min(0),
  total: z.number().int().min(0).nullable(),
  current: z.string().nullable(),
  counts: z.object({
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    skipped: z.number().int(),
    failed: z.number().int(),
  }),
});
export type ProgressEvent = z.infer<typeof progressEventSchema>;
