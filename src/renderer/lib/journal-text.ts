/**
 * The journal for people: an item's reference as a person knows it (« Chantier 00000101 — Rénovation »,
 * « Chantier 00000101, salarié SAL01, le 02/07/2026 ») instead of UUIDs and raw keys, and its reason with
 * ISO days in French and the screen that fixes it as a link.
 */
import type { JournalItem } from '../../shared/contract.js';
import { fr } from '../../shared/strings.fr.js';

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const ISO_DAY = /\b(\d{4})-(\d{2})-(\d{2})\b/g;

const frenchDay = (iso: string): string => iso.replace(ISO_DAY, (_m, y: string, m: string, d: string) => `${d}/${m}/${y}`);

export interface Reference {
  /** What the journal shows. */
  text: string;
  /** The technical key, for the support (shown as a tooltip), when the text does not contain it. */
  technical: string | null;
}

/** The reference column (the label has its own column: a chantier is « Chantier 00000101 »). */
export function itemReference(i: Pick<JournalItem, 'kind' | 'key' | 'label'>): Reference {
  switch (i.kind) {
    case 'chantier':
      return { text: fr.journal.refChantier(i.key), technical: null };
    case 'devis':
      return { text: fr.journal.refDevis(i.key), technical: null };
    case 'import':
      return { text: fr.journal.refImport(i.key), technical: null };
    case 'salarie':
      return { text: i.label ?? fr.journal.refUser, technical: i.key };
    case 'timeslot': {
      if (i.key === 'not-validated') return { text: fr.journal.refNotValidated, technical: null };
      const unreadable = /^illisible-(\d+)$/.exec(i.key);
      if (unreadable) return { text: fr.journal.refUnreadable(Number(unreadable[1])), technical: null };
      const line = /^([^/]+)\/([^/]+)\/(\d{4}-\d{2}-\d{2})$/.exec(i.key);
      if (line) return { text: fr.journal.refLine(line[1] ?? '', line[2] ?? '', frenchDay(line[3] ?? '')), technical: null };
      return { text: i.label ?? fr.journal.refSlot, technical: i.key };
    }
    default:
      return i.label ? { text: i.label, technical: i.key } : { text: i.key.replace(UUID, '…'), technical: i.key };
  }
}

export type ReasonPart = string | { text: string; href: string };

/** Screens named in reasons, and the link that opens them. */
const LINKS: { text: string; href: string }[] = [
  { text: `« ${fr.mapping.title} »`, href: '#/mapping' },
  { text: `Réglages › ${fr.options.title}`, href: '#/settings' },
  { text: 'Réglages › Compte BatiSimply', href: '#/settings' },
];

/** The reason for people: UUIDs dropped (the reference says which item), days in French, screens as links. */
export function reasonParts(reason: string): ReasonPart[] {
  const text = frenchDay(reason.replace(new RegExp(` ${UUID.source}`, 'gi'), '').replace(UUID, '…'));
  let parts: ReasonPart[] = [text];
  for (const link of LINKS) {
    parts = parts.flatMap((p) => {
      if (typeof p !== 'string' || !p.includes(link.text)) return [p];
      const out: ReasonPart[] = [];
      p.split(link.text).forEach((piece, n) => {
        if (n > 0) out.push({ text: link.text.replace(/^« | »$/g, ''), href: link.href });
        if (piece) out.push(piece);
      });
      return out;
    });
  }
  return parts;
}
