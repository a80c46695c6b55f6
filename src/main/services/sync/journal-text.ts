/**
 * Every French sentence of the sync layer, in one place: run messages and journal lines, errors, progress labels.
 * Counts take real French plurals (Intl.PluralRules: 0 and 1 are singular), never « créneau(x) »; screens and
 * fields are named as the UI names them (src/shared/strings.fr.ts), e.g. « Réglages › Options de synchronisation ».
 * `sw` is the software's name for the user: 'Sage Batigest' or 'Codial'.
 */
import { count, pick as plural } from '../../../shared/plural.js';
import { fr } from '../../../shared/strings.fr.js';
import { SOFTWARE_LABELS, type ChantierBackField } from '../../../shared/settings.js';
import { storable } from '../../../shared/text.js';
import type { FlowName, RunCounts } from './model.js';

const integer = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 2 });

export { count };

/** Hours for the user: « 2,5 », « 8 ». */
export const hoursFigure = (h: number): string => decimal.format(h);

/** Date and time as shown in the journal (Paris time, « 05/03/2026 14:30 »). */
export function dateTime(d: Date): string {
  return new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' }).format(d);
}

/** A gateway message names "Batigest": say the software the user has (Codial shares its tables). */
export const inSoftware = (text: string, sw: string): string => (sw === SOFTWARE_LABELS.batigest ? text : text.replace(/(Sage )?Batigest/g, sw));

/** Where the options of the sync are, as the UI names them. */
const OPTIONS = `Réglages › ${fr.options.title}`;
const MAPPING_SCREEN = `« ${fr.mapping.title} »`;

// ------------------------------------------------------------------ engine (run lifecycle, leases)

export const engineText = {
  /** The flows' names, as the dashboard's buttons and the journal's filter show them. */
  flowLabel: (flow: FlowName, sw: string): string => fr.flows[flow](sw),
  unknownFlow: (flow: string): string => `Flux de synchronisation inconnu : « ${flow} ». Choisissez l'envoi vers BatiSimply, l'import des heures ou les deux.`,
  alreadyRunningHere: (label: string): string => `La synchronisation « ${label} » est déjà en cours sur ce poste. Attendez la fin de l'exécution.`,
  lockedElsewhere: (label: string, machine: string | null): string =>
    `Le flux « ${label} » est déjà en cours sur le poste ${machine ?? 'un autre poste'}. Il sera repris automatiquement si ce poste ne répond plus.`,
  alreadyDone: (label: string, machine: string): string =>
    `Le flux « ${label} » a déjà été synchronisé dans cet intervalle par le poste ${machine} : rien à refaire avant le prochain passage.`,
  unexpected: 'La synchronisation a échoué de façon inattendue. Consultez le journal technique et relancez.',
};

// ------------------------------------------------------------------ push flow (Batigest → BatiSimply)

export const pushText = {
  modeUnknown: `Mode de synchronisation inconnu : choisissez « ${fr.options.modeChantier} » ou « ${fr.options.modeDevis} » dans ${OPTIONS} › ${fr.options.mode}.`,
  reading: (kind: 'chantier' | 'devis', sw: string): string => (kind === 'chantier' ? `Lecture des chantiers ${sw}` : `Lecture des devis ${sw}`),
  readingPages: (sw: string): string => `Lecture ${sw}`,
  sending: 'Envoi vers BatiSimply',
  /** Record key of a source row without code (the n-th of the run). */
  keyWithoutCode: (kind: string, n: number): string => `${kind}:(sans code ${n})`,
  keyWithoutCodeLine: (kind: string, n: number): string => `${kind}:(sans code, ligne ${n})`,
  duplicateCode: (code: string, sw: string): string => `Code ${code} présent plusieurs fois dans ${sw} : seule la première ligne est envoyée.`,
  recordFailed: (name: string, code: string, reason: string): string => `${name} (${code}) : ${reason} Nouvel essai au prochain passage.`,
  deletedRemotely: (code: string): string => `Projet ${code} supprimé dans BatiSimply : il est recréé.`,
  conflictRemoteKept: (name: string, code: string, sw: string, local: Date, remote: Date): string =>
    `${name} (${code}) modifié dans ${sw} (${dateTime(local)}) et dans BatiSimply (${dateTime(remote)}) : la modification BatiSimply, plus récente, est conservée.`,
  conflictLocalSent: (name: string, code: string, sw: string, local: Date | null, remote: Date): string =>
    `${name} (${code}) modifié dans ${sw} (${local ? dateTime(local) : 'date inconnue'}) et dans BatiSimply (${dateTime(remote)}) : la modification ${sw}, plus récente, est envoyée.`,
  adoptedUnchanged: (code: string): string => `Projet BatiSimply existant repris par son code ${code} (aucune modification nécessaire).`,
  adoptedUpdated: (code: string): string => `Projet BatiSimply existant repris par son code ${code} et mis à jour.`,

  // Source rows that cannot become a project (services/sync/mapping.ts).
  chantierWithoutCode: (sw: string): string => `Chantier sans code dans ${sw} : ignoré. Renseignez son code pour le synchroniser.`,
  chantierWithoutName: (code: string, sw: string): string => `Chantier ${code} sans nom ni client dans ${sw} : ignoré. Renseignez son libellé ou son client.`,
  devisWithoutCode: (sw: string): string => `Devis sans code dans ${sw} : ignoré.`,
  unreadableCode: (what: 'Chantier' | 'Devis', code: string, sw: string): string =>
    `${what} ${storable(code)} ignoré : son code dans ${sw} contient un caractère nul ou illisible. Corrigez le code dans ${sw} pour le synchroniser.`,
  devisState: (code: string, etat: number | null): string => `Devis ${code} à l'état ${etat ?? 'inconnu'} : seuls les devis aux états 0, 3 et 4 sont envoyés.`,
  devisWithoutName: (code: string, sw: string): string => `Devis ${code} sans objet ni client dans ${sw} : ignoré. Renseignez son objet ou son client.`,

  /** The run's message: « Envoi vers BatiSimply : 3 créés, 1 mis à jour, … ». */
  summary(c: RunCounts): string {
    const parts = [count(c.created, 'créé', 'créés'), `${integer.format(c.updated)} mis à jour`, count(c.unchanged, 'inchangé', 'inchangés'), count(c.skipped, 'ignoré', 'ignorés'), `${integer.format(c.failed)} en erreur`];
    if (c.conflicts > 0) parts.push(count(c.conflicts, 'conflit', 'conflits'));
    return `Envoi vers BatiSimply : ${parts.join(', ')}.`;
  },
  /** What the run left aside, appended to its message ('' when nothing). */
  note(l: { noCode: number; noName: number }, sw: string): string {
    const ignored = l.noCode + l.noName;
    if (ignored === 0) return '';
    const why: string[] = [];
    if (l.noCode > 0) why.push(`${integer.format(l.noCode)} sans code`);
    if (l.noName > 0) why.push(`${integer.format(l.noName)} sans nom ni client`);
    return ` ${count(ignored, `ligne de ${sw} ignorée`, `lignes de ${sw} ignorées`)} : ${why.join(', ')} (détail dans le journal).`;
  },
};

// ------------------------------------------------------------------ chantier life (issue 18)

const CHANTIERS_SCREEN = 'Réglages › Chantiers';

export const lifeText = {
  /** Appended to the push message: chantiers of the company not sent because they are out of scope. */
  outOfScope: (n: number, months: number): string =>
    n === 0 ? '' : ` ${count(n, 'chantier hors périmètre non envoyé', 'chantiers hors périmètre non envoyés')} (terminés depuis plus de ${count(months, 'mois', 'mois')} ou à un état non synchronisé, voir ${CHANTIERS_SCREEN}).`,
  finished: (name: string, code: string, sw: string): string => `${name} (${code}) terminé dans ${sw} : marqué terminé dans BatiSimply.`,
  archived: (name: string, code: string, sw: string): string => `${name} (${code}) terminé dans ${sw} depuis le délai d'archivage : archivé dans BatiSimply.`,
  reopened: (name: string, code: string, sw: string): string => `${name} (${code}) rouvert dans ${sw} : rouvert dans BatiSimply.`,
  renamed: (code: string, before: string, after: string): string => `Chantier ${code} renommé dans BatiSimply : « ${before} » devient « ${after} » (source du nom choisie dans ${CHANTIERS_SCREEN}).`,
  hoursFromDevis: (code: string, before: number | null, after: number | null): string =>
    `Heures vendues du chantier ${code} d'après ses devis acceptés : ${before === null ? 'aucune' : `${hoursFigure(before)} h`} → ${after === null ? 'aucune' : `${hoursFigure(after)} h`}.`,
  deletedReported: (code: string, name: string | null, sw: string): string =>
    `Chantier ${code}${name ? ` (${name})` : ''} supprimé dans ${sw} : le projet reste dans BatiSimply, inchangé (option « Chantier supprimé » de ${CHANTIERS_SCREEN}).`,
  deletedFinished: (code: string, name: string | null, sw: string, archived: boolean): string =>
    `Chantier ${code}${name ? ` (${name})` : ''} supprimé dans ${sw} : le projet est ${archived ? 'marqué terminé et archivé' : 'marqué terminé'} dans BatiSimply, jamais supprimé.`,
  deletedGoneRemotely: (code: string, sw: string): string => `Chantier ${code} supprimé dans ${sw} et introuvable dans BatiSimply : rien à faire.`,
  deletedFailed: (code: string, reason: string): string => `Chantier ${code} supprimé : le projet BatiSimply n'a pas pu être marqué terminé (${reason}). Nouvel essai au prochain passage.`,
  massDeletion: (n: number, known: number, sw: string): string =>
    `${count(n, 'chantier envoyé à BatiSimply est absent', 'chantiers envoyés à BatiSimply sont absents')} de ${sw} sur ${count(known, 'chantier suivi', 'chantiers suivis')} : plutôt qu'une suppression, la base choisie n'est sans doute pas la bonne. Rien n'est marqué ni modifié dans BatiSimply ; vérifiez la base dans Réglages › ${fr.sql.title(sw)}.`,
  reappeared: (code: string, sw: string): string => `Chantier ${code} de nouveau présent dans ${sw} : il est suivi comme avant.`,
  devisLinkMissing: `La table Devis n'a pas de colonne reliant un devis à son chantier : les heures vendues sont prises du chantier. Choisissez la colonne dans ${CHANTIERS_SCREEN} › Heures vendues.`,
};

// ------------------------------------------------------------------ chantiers-back flow (BatiSimply → ChantierDef, opt-in)

const shown = (v: string | null): string => (v === null ? 'vide' : `« ${v} »`);

/** The write-back fields as a sentence names them, with their gender (« la date de fin modifiée »). */
const FIELD_WORDS: Record<ChantierBackField, { label: string; fem: boolean }> = {
  dateDebut: { label: 'la date de début', fem: true },
  dateFin: { label: 'la date de fin', fem: true },
  adresse: { label: "l'adresse", fem: true },
  codePostal: { label: 'le code postal', fem: false },
  ville: { label: 'la ville', fem: true },
};
const agreed = (f: ChantierBackField, word: string): string => `${word}${FIELD_WORDS[f].fem ? 'e' : ''}`;

export const backText = {
  reading: 'Lecture des projets modifiés dans BatiSimply',
  writing: (sw: string): string => `Report des modifications dans ${sw}`,
  disabled: (sw: string): string => `Report des modifications BatiSimply désactivé (${CHANTIERS_SCREEN}) : rien n'est écrit dans ${sw}.`,
  applied: (code: string, f: ChantierBackField, before: string | null, after: string | null, sw: string): string =>
    `Chantier ${code} : ${FIELD_WORDS[f].label} ${agreed(f, 'modifié')} dans BatiSimply (${shown(before)} → ${shown(after)}), ${agreed(f, 'reporté')} dans ${sw}.`,
  conflictRemote: (code: string, f: ChantierBackField, ours: string | null, theirs: string | null, sw: string, local: Date | null, remote: Date): string =>
    `Chantier ${code} : ${FIELD_WORDS[f].label} ${agreed(f, 'modifié')} dans ${sw} (${shown(ours)}, ${local ? dateTime(local) : 'date inconnue'}) et dans BatiSimply (${shown(theirs)}, ${dateTime(remote)}) : la modification BatiSimply, plus récente, est reportée dans ${sw}.`,
  conflictLocal: (code: string, f: ChantierBackField, ours: string | null, theirs: string | null, sw: string, local: Date | null, remote: Date | null): string =>
    `Chantier ${code} : ${FIELD_WORDS[f].label} ${agreed(f, 'modifié')} dans ${sw} (${shown(ours)}, ${local ? dateTime(local) : 'date inconnue'}) et dans BatiSimply (${shown(theirs)}, ${remote ? dateTime(remote) : 'date inconnue'}) : la valeur de ${sw} est conservée${local ? ' (plus récente)' : ''} et sera envoyée à BatiSimply.`,
  noBaseline: (code: string, sw: string): string =>
    `Chantier ${code} modifié dans BatiSimply avant l'activation du report : rien n'est reporté cette fois ; les prochaines modifications le seront dans ${sw}.`,
  unreadableDate: (code: string, f: ChantierBackField, raw: string, sw: string): string =>
    `Chantier ${code} : ${FIELD_WORDS[f].label} de BatiSimply (« ${storable(raw)} ») n'est pas une date lisible : rien n'est reporté dans ${sw}. Corrigez-la dans BatiSimply.`,
  refused: (code: string, reason: string, sw: string): string => `Chantier ${code} : ${sw} a refusé les valeurs venues de BatiSimply (${reason}) ; rien n'est écrit pour ce chantier. Nouvel essai au prochain passage.`,
  goneInSource: (code: string, sw: string): string => `Chantier ${code} modifié dans BatiSimply mais absent de ${sw} : rien n'est reporté.`,
  summary: (fields: number, chantiers: number, conflicts: number, sw: string): string =>
    `Report vers ${sw} : ${count(fields, 'champ reporté', 'champs reportés')} sur ${count(chantiers, 'chantier', 'chantiers')}${conflicts > 0 ? `, ${count(conflicts, 'conflit', 'conflits')}` : ''}.`,
};

// ------------------------------------------------------------------ hours flow (BatiSimply → Batigest SuiviMO)

/** What an hours run leaves aside: slots refused (unreadable, impossible) and validated hours that wait. */
export interface HoursLeftAside {
  rejectedSlots: number;
  unmappedSlots: number;
  unmappedUsers: number;
  unknownSlots: number;
  unknownChantiers: number;
  pendingMinutes: number;
}

const REMOVE_OPTION = `« ${fr.options.removeUnvalidated} » (${OPTIONS})`;

export const hoursText = {
  timezoneUnknown: (tz: string): string => `Fuseau horaire « ${tz} » inconnu : corrigez-le dans ${OPTIONS} › ${fr.options.timezone} (par exemple Europe/Paris).`,
  readingSalaries: (sw: string): string => `Lecture des salariés ${sw}`,
  /** ' (période 2/5)' when the window is read in several segments, else ''. */
  segment: (index: number, total: number): string => (total > 1 ? ` (période ${index + 1}/${total})` : ''),
  readingSlots: (part: string): string => `Lecture des créneaux BatiSimply${part}`,
  comparing: (part: string): string => `Comparaison des créneaux${part}`,
  writing: (sw: string, part: string): string => `Écriture des heures dans ${sw}${part}`,
  removingDeleted: (sw: string): string => `Retrait des heures de créneaux supprimés dans ${sw}`,

  unreadable: (id: string, reason: string, sw: string): string =>
    `Créneau ${id} illisible dans la réponse de BatiSimply (${reason}) : il n'est pas importé, et ses heures déjà importées (s'il y en a) restent dans ${sw}. Corrigez-le dans BatiSimply ; nouvel essai au prochain passage.`,
  unreadableWithoutId: (reason: string, sw: string): string =>
    `Créneau sans identifiant lisible dans la réponse de BatiSimply (${reason}) : il n'est pas importé, et aucune heure n'est retirée de ${sw} pour un créneau disparu pendant ce passage. Corrigez-le dans BatiSimply ; nouvel essai au prochain passage.`,
  unreadableKey: (n: number): string => `slot:illisible-${n}`,
  unreadableSalarie: (code: string, sw: string): string =>
    `Salarié ${storable(code)} ignoré : son code dans ${sw} contient un caractère nul ou illisible, ses heures ne peuvent pas être écrites. Corrigez le code dans ${sw}.`,

  // Reasons stored with each slot in the buffer (its state).
  stateUnvalidatedRemoved: 'Créneau dévalidé : heures retirées',
  stateUnvalidatedKept: 'Créneau dévalidé : heures conservées',
  stateStatus: (status: string): string => `Statut ${status}`,
  stateDeletedRemoved: 'Supprimé dans BatiSimply : heures retirées',
  stateDeletedKept: 'Supprimé dans BatiSimply : heures conservées',
  stateUnmapped: (name: string, sw: string): string => `Utilisateur ${name} sans salarié ${sw}`,
  stateUnknownChantier: (label: string, sw: string): string => `Chantier ${label} inconnu dans ${sw}`,
  /** How a chantier is named when the slot's project has no code Batigest knows. */
  projectLabel: (projectId: string | null): string => `projet BatiSimply ${projectId ?? '(aucun)'}`,

  unvalidatedRemoved: (user: string, day: string, chantier: string, sw: string): string =>
    `Créneau de ${user} du ${day} (chantier ${chantier}) n'est plus validé dans BatiSimply : ses heures sont retirées de ${sw}.`,
  unvalidatedKept: (user: string, day: string, chantier: string, sw: string): string =>
    `Créneau de ${user} du ${day} (chantier ${chantier}) n'est plus validé dans BatiSimply ; ses heures restent dans ${sw} (option ${REMOVE_OPTION} désactivée).`,
  impossible: (id: string, user: string, problem: string): string => `Créneau ${id} de ${user} : ${problem} Il n'est pas importé ; corrigez-le dans BatiSimply.`,

  // What makes a slot's values impossible (slotProblem).
  badDuration: (m: number): string => `durée négative ou illisible (${String(m)} min).`,
  tooLong: (hours: number): string => `durée de ${hoursFigure(hours)} h sur un seul créneau (plus de 24 h).`,
  badStart: (raw: string): string => `date de début illisible (« ${raw} »).`,
  impossibleStart: (raw: string): string => `date de début impossible (« ${raw} »).`,
  outOfWindow: (day: string): string => `date de début ${day} hors de la période importée.`,

  deletedRemoved: (slotId: string, day: string, chantier: string, salarie: string, sw: string): string =>
    `Créneau ${slotId} du ${day} (chantier ${chantier}, salarié ${salarie}) supprimé dans BatiSimply : ses heures sont retirées de ${sw}.`,
  deletedKept: (slotId: string, day: string, chantier: string, salarie: string, sw: string): string =>
    `Créneau ${slotId} du ${day} (chantier ${chantier}, salarié ${salarie}) supprimé dans BatiSimply ; ses heures restent dans ${sw} (option ${REMOVE_OPTION} désactivée).`,

  unmappedUser: (name: string, n: number, sw: string): string =>
    `Aucun salarié ${sw} pour l'utilisateur BatiSimply ${name} : ${count(n, 'créneau non importé', 'créneaux non importés')}. Associez-le à un salarié dans ${MAPPING_SCREEN} ; ses heures seront importées au prochain passage.`,
  unknownChantier: (label: string, n: number, sw: string): string =>
    `Chantier ${label} introuvable dans ${sw} : ${count(n, 'créneau non importé', 'créneaux non importés')}. Vérifiez le code du chantier ; nouvel essai au prochain passage.`,
  notValidated(n: number): string {
    const what = plural(n, "non importé tant qu'il n'est pas validé", "non importés tant qu'ils ne sont pas validés");
    return `${count(n, 'créneau non validé', 'créneaux non validés')} dans BatiSimply : ${what}.`;
  },

  moved: (from: string, to: string): string => `Créneau modifié dans BatiSimply : heures déplacées de ${from} vers ${to}.`,
  updated: (key: string): string => `Créneau modifié dans BatiSimply : ligne ${key} mise à jour.`,
  suiviConflict: (key: string, sw: string, current: number | null, since: Date | null, slots: number): string =>
    `Ligne SuiviMO ${key} modifiée dans ${sw} (${current === null ? 'supprimée' : `${hoursFigure(current)} h`}) depuis ${since ? dateTime(since) : 'la dernière synchronisation'}, et ${count(slots, 'créneau modifié', 'créneaux modifiés')} dans BatiSimply depuis : la modification BatiSimply, plus récente, est appliquée.`,
  writeRefused: (key: string, reason: string): string => `Écriture SuiviMO ${key} refusée : ${reason} Nouvel essai au prochain passage.`,

  /** The run's message: « Import des heures : 3 créneaux importés, 1 modifié, … ». */
  summary(c: RunCounts): string {
    const parts = [
      count(c.created, 'créneau importé', 'créneaux importés'),
      count(c.updated, 'modifié', 'modifiés'),
      count(c.unchanged, 'inchangé', 'inchangés'),
      count(c.skipped, 'ignoré', 'ignorés'),
      `${integer.format(c.failed)} en erreur`,
      count(c.writes, 'écriture SuiviMO', 'écritures SuiviMO'),
    ];
    if (c.conflicts > 0) parts.push(count(c.conflicts, 'conflit', 'conflits'));
    return `Import des heures : ${parts.join(', ')}.`;
  },
  /** What the run left unwritten, appended to its message ('' when nothing). */
  note(l: HoursLeftAside, sw: string): string {
    const rejected = l.rejectedSlots > 0 ? ` ${count(l.rejectedSlots, 'créneau impossible ou illisible non importé', 'créneaux impossibles ou illisibles non importés')} (à corriger dans BatiSimply).` : '';
    return hoursText.waiting(l, sw) + rejected;
  },
  /** Validated hours that wait for a salarié or a chantier ('' when none). */
  waiting(l: HoursLeftAside, sw: string): string {
    if (l.unmappedSlots + l.unknownSlots === 0) return '';
    const hours = l.pendingMinutes / 60;
    const why: string[] = [];
    if (l.unmappedSlots > 0) {
      const users = l.unmappedUsers === 1 ? "d'un utilisateur BatiSimply" : `de ${integer.format(l.unmappedUsers)} utilisateurs BatiSimply`;
      why.push(`${count(l.unmappedSlots, 'créneau', 'créneaux')} ${users} sans salarié ${sw} (à associer dans ${MAPPING_SCREEN})`);
    }
    if (l.unknownSlots > 0) {
      const chantiers = l.unknownChantiers === 1 ? `un chantier inconnu de ${sw}` : `${integer.format(l.unknownChantiers)} chantiers inconnus de ${sw}`;
      why.push(`${count(l.unknownSlots, 'créneau', 'créneaux')} sur ${chantiers} (code à vérifier)`);
    }
    const one = plural(hours, 'one', 'other') === 'one';
    return ` ${hoursFigure(hours)} h ${one ? 'validée' : 'validées'} en attente, ${one ? 'non écrite' : 'non écrites'} dans ${sw} : ${why.join(' ; ')}. ${one ? 'Elle sera importée' : 'Elles seront importées'} au prochain passage une fois corrigé.`;
  },
};

/** The import agent (flows/imports): journal, run messages, its daily log and its folder messages. */
export const importsText = {
  flowLabel: (sw: string): string => `Imports vers ${sw}`,
  disabled: "Le module d’import n’est pas activé : Réglages › Imports › Activer le module d’import.",
  noApi: "L’adresse de l’API d’export n’est pas renseignée : Réglages › Imports › Adresse de l’API.",
  noImportFolder: (sw: string): string => `Le dossier d’import de ${sw} n’est pas renseigné : Réglages › Imports › Dossier d’import.`,
  importSetting: 'Réglages › Imports › Dossier d’import',
  workSetting: 'Réglages › Imports › Dossier de travail',
  badId: "Export refusé : son identifiant contient des caractères interdits (à corriger côté API d’export).",
  listing: "Lecture des exports en attente",
  downloading: 'Téléchargement des exports',
  handing: (sw: string): string => `Dépôt dans le dossier d’import de ${sw}`,
  waiting: (sw: string): string => `Attente de l’import par ${sw}`,
  confirming: "Confirmation à l’API d’export",
  sizeMismatch: (want: number, got: number): string => `Le fichier reçu ne fait pas la taille annoncée par l’API (${got} octets au lieu de ${want}).`,
  checksumMismatch: "Le fichier reçu ne correspond pas à l’empreinte annoncée par l’API (fichier altéré pendant le transfert).",
  corrupt: (reason: string): string => `${reason} Trois téléchargements ont échoué : l’export est mis en erreur.`,
  timeout: (sw: string, name: string, seconds: number): string =>
    `${sw} n’a pas importé le fichier « ${name} » en ${count(seconds, 'seconde', 'secondes')} (${sw} est-il ouvert, son import automatique actif ?) : le fichier est conservé dans le dossier Errors ; « Réessayer » le déposera à nouveau.`,
  imported: (sw: string, name: string): string => `Importé par ${sw} (fichier « ${name} »).`,
  reacked: "Déjà importé : l’API d’export le listait encore, sa confirmation lui est renvoyée (aucun second import).",
  downloadFailed: (reason: string): string => `Téléchargement impossible pour l’instant : ${reason}`,
  markFailed: (reason: string): string => `Confirmation à l’API d’export impossible pour l’instant (${reason}) : elle sera renvoyée au prochain cycle.`,
  rejected: (reason: string): string => reason,
  summary: (imported: number, errors: number, waiting: number): string =>
    `${count(imported, 'export importé', 'exports importés')}, ${count(errors, 'en erreur', 'en erreur')}${waiting ? `, ${count(waiting, 'en attente', 'en attente')}` : ''}.`,
  nothing: 'Aucun export en attente.',
  retried: (id: string): string => `L’export ${id} sera téléchargé et déposé à nouveau au prochain cycle.`,
  notErrored: (id: string): string => `L’export ${id} n’est pas en erreur : rien à réessayer.`,
  log: {
    stopped: (reason: string): string => `Cycle arrêté : ${reason}`,
    started: (agent: string): string => `Début du cycle (poste ${agent}).`,
    ended: (message: string): string => `Fin du cycle : ${message}`,
    seen: (id: string, file: string): string => `Export ${id} en attente (${file}).`,
    ignored: (id: string, reason: string): string => `Export ${id} ignoré : ${reason}`,
    step: (id: string, reason: string): string => `Export ${id} : ${reason}`,
    cut: (id: string): string => `Export ${id} : téléchargement interrompu, nouvel essai.`,
    downloaded: (id: string, bytes: number): string => `Export ${id} téléchargé (${count(bytes, 'octet', 'octets')}).`,
    handed: (id: string, name: string): string => `Export ${id} déposé dans le dossier d’import (${name}).`,
    synced: (id: string): string => `Export ${id} importé et confirmé (archivé).`,
    errored: (id: string, reason: string): string => `Export ${id} en erreur : ${reason}`,
  },
  diskFull: (folder: string): string => `Le disque du dossier ${folder} est plein : libérez de la place, le cycle reprendra où il s’est arrêté.`,
  folderMissing: (folder: string, setting: string): string => `Le dossier ${folder} est introuvable : vérifiez ${setting}.`,
  folderReadOnly: (folder: string, setting: string): string => `Le dossier ${folder} n’est pas accessible en écriture : vérifiez ses droits ou ${setting}.`,
  folderUnusable: (folder: string): string => `Le dossier ${folder} n’est pas utilisable.`,
  importFolderOk: (sw: string): string => `Le dossier d’import de ${sw} est accessible en écriture.`,
  importFolderDetail: "Dossier d’import",
};
