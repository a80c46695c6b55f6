/** Every French sentence of the import agent (journal, run messages), with real plurals. */
import { count as n } from '../../../../../shared/plural.js';

export const importsText = {
  flowLabel: (sw: string): string => `Imports vers ${sw}`,
  disabled: "Le module d'import n'est pas activé : Réglages › Imports › Activer le module d'import.",
  noApi: "L'adresse de l'API d'export n'est pas renseignée : Réglages › Imports › Adresse de l'API.",
  noImportFolder: (sw: string): string => `Le dossier d'import de ${sw} n'est pas renseigné : Réglages › Imports › Dossier d'import.`,
  importSetting: 'Réglages › Imports › Dossier d\'import',
  workSetting: 'Réglages › Imports › Dossier de travail',
  badId: "Export refusé : son identifiant contient des caractères interdits (à corriger côté API d'export).",
  listing: "Lecture des exports en attente",
  downloading: 'Téléchargement des exports',
  handing: (sw: string): string => `Dépôt dans le dossier d'import de ${sw}`,
  waiting: (sw: string): string => `Attente de l'import par ${sw}`,
  confirming: "Confirmation à l'API d'export",
  sizeMismatch: (want: number, got: number): string => `Le fichier reçu ne fait pas la taille annoncée par l'API (${got} octets au lieu de ${want}).`,
  checksumMismatch: "Le fichier reçu ne correspond pas à l'empreinte annoncée par l'API (fichier altéré pendant le transfert).",
  corrupt: (reason: string): string => `${reason} Trois téléchargements ont échoué : l'export est mis en erreur.`,
  timeout: (sw: string, name: string, seconds: number): string =>
    `${sw} n'a pas importé le fichier « ${name} » en ${n(seconds, 'seconde', 'secondes')} (${sw} est-il ouvert, son import automatique actif ?) : le fichier est conservé dans le dossier Errors ; « Réessayer » le déposera à nouveau.`,
  imported: (sw: string, name: string): string => `Importé par ${sw} (fichier « ${name} »).`,
  reacked: "Déjà importé : l'API d'export le listait encore, sa confirmation lui est renvoyée (aucun second import).",
  downloadFailed: (reason: string): string => `Téléchargement impossible pour l'instant : ${reason}`,
  markFailed: (reason: string): string => `Confirmation à l'API d'export impossible pour l'instant (${reason}) : elle sera renvoyée au prochain cycle.`,
  rejected: (reason: string): string => reason,
  summary: (imported: number, errors: number, waiting: number): string =>
    `${n(imported, 'export importé', 'exports importés')}, ${n(errors, 'en erreur', 'en erreur')}${waiting ? `, ${n(waiting, 'en attente', 'en attente')}` : ''}.`,
  nothing: 'Aucun export en attente.',
  retried: (id: string): string => `L'export ${id} sera téléchargé et déposé à nouveau au prochain cycle.`,
  notErrored: (id: string): string => `L'export ${id} n'est pas en erreur : rien à réessayer.`,
};
