/**
 * A small Batigest-shaped sample database for simulator tests and the manual CLI (serve.ts).
 * Original-case, double-quoted names as the dataset generator creates them.
 */
import type { AdminBackend } from './backend.js';

export const SAMPLE_SCHEMA = `
CREATE TABLE "ChantierDef" (
  "Code" varchar(8) NOT NULL PRIMARY KEY, "NomClient" varchar(60), "DateDebut" timestamp, "DateFin" timestamp,
  "Etat" char(1), "AdrChantier" varchar(120), "CPChantier" varchar(10), "VilleChantier" varchar(60), "TotalMO" numeric(18,2));
CREATE TABLE "Salarie" ("Code" varchar(8) NOT NULL PRIMARY KEY, "Nom" varchar(60) NOT NULL, "Prenom" varchar(60), "Actif" boolean);
CREATE TABLE "SuiviMO" (
  "CodeChantier" varchar(8) NOT NULL, "CodeSalarie" varchar(8) NOT NULL, "Date" date NOT NULL,
  "NbH0" numeric(18,4), "NbH3" integer, "NbH4" integer, PRIMARY KEY ("CodeChantier", "CodeSalarie", "Date"));
`;

export const SAMPLE_ROWS = `
INSERT INTO "ChantierDef" VALUES
  ('00000001', 'Société Générale d''Électricité', '2024-01-15', NULL, 'E', '12 rue de l''Église', '69001', 'Lyon', 120.50),
  ('00000002', 'Mairie de Saint-Étienne', '2024-03-01', '2024-06-30', 'E', '1 place Hôtel de Ville', '42000', 'Saint-Étienne', 80),
  ('00000003', 'Dupré & Fils', '2023-11-20', '2024-02-01', 'T', '5 chemin des Prés', '38000', 'Grenoble', 0);
INSERT INTO "Salarie" VALUES ('S001', 'Lefèvre', 'Zoé', true), ('S002', 'N''Diaye', 'Aïssa', true), ('S003', 'Müller', 'Jürgen', false);
INSERT INTO "SuiviMO" VALUES ('00000001', 'S001', '2024-02-05', 7.5, 1, 1), ('00000001', 'S002', '2024-02-05', 8, 0, 1);
`;

export async function loadSample(backend: AdminBackend, database: string): Promise<void> {
  await backend.adminExec(database, SAMPLE_SCHEMA + SAMPLE_ROWS);
}
