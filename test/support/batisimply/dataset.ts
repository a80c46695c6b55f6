/**
 * Deterministic BatiSimply data (users, projects, time slots in every managementStatus) for the simulator.
 * Same `seed` → same data. Users can be given explicitly (e.g. the UUIDs stored in Batigest's Salarie.codebs).
 */
import type { SimSeed } from './state.js';

export interface DatasetOptions {
  /** Random seed (default 1). */
  seed?: number;
  /** Number of users to create when `users` is not given (default 5). */
  userCount?: number;
  users?: NonNullable<SimSeed['users']>;
  /** Number of projects (default 10); codes are 8 digits, zero-padded, like Batigest codes. */
  projects?: number;
  /** Project codes to use instead of generated ones. */
  projectCodes?: string[];
  /** Days of time slots ending at `until` (default 30). */
  days?: number;
  /** Last day (UTC) of generated slots (default 2026-01-31). */
  until?: Date;
  /** Slots per user per working day (default 1). */
  slotsPerDay?: number;
}

const STATUSES = ['VALIDATED', 'VALIDATED', 'VALIDATED', 'PENDING', 'REJECTED', 'DRAFT', 'SUBMITTED'] as const;
const FIRST = ['Jean', 'Marie', 'Pierre', 'Sophie', 'Luc', 'Camille', 'Antoine', 'Julie', 'Hugo', 'Léa'];
const LAST = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau'];
const CITIES: Array<[string, string]> = [
  ['75011', 'Paris'],
  ['69003', 'Lyon'],
  ['13008', 'Marseille'],
  ['31000', 'Toulouse'],
  ['44000', 'Nantes'],
  ['33000', 'Bordeaux'],
];

function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuidFrom(rnd: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rnd() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function generateBatisimplySeed(opts: DatasetOptions = {}): Required<SimSeed> {
  const rnd = mulberry32(opts.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

  const users =
    opts.users ??
    Array.from({ length: opts.userCount ?? 5 }, (_, i) => {
      const firstName = pick(FIRST);
      const lastName = pick(LAST);
      return {
        id: uuidFrom(rnd),
        login: `${firstName}.${lastName}.${i}`.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, ''),
        firstName,
        lastName,
        email: `${firstName}.${lastName}.${i}@exemple.fr`.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, ''),
        activated: true,
      };
    });

  const codes = opts.projectCodes ?? Array.from({ length: opts.projects ?? 10 }, (_, i) => String(1000 + i * 7).padStart(8, '0'));
  const projects = codes.map((code, i) => {
    const [postalCode, city] = pick(CITIES);
    return {
      id: 1001 + i,
      projectCode: code,
      projectName: `Chantier ${pick(LAST)} ${city}`,
      customerName: `${pick(FIRST)} ${pick(LAST)}`,
      comment: null,
      address: { street: `${1 + Math.floor(rnd() * 120)} rue de la République`, postalCode, city, countryCode: 'FR' },
      budget: null,
      hoursSold: Math.round(rnd() * 400),
      startEstimated: '2025-09-01',
      endEstimated: '2026-06-30',
      headQuarter: null,
      projectManager: null,
      isArchived: false,
      isFinished: false,
      projectColor: '#1e6fd9',
    };
  });

  const timeSlots: NonNullable<SimSeed['timeSlots']> = [];
  const until = opts.until ?? new Date(Date.UTC(2026, 0, 31));
  const days = opts.days ?? 30;
  const perDay = opts.slotsPerDay ?? 1;
  let id = 50_001;
  for (let d = days - 1; d >= 0; d--) {
    const day = new Date(until.getTime() - d * 86_400_000);
    const dow = day.getUTCDay();
    if (dow === 0 || dow === 6) continue;
    for (const u of users) {
      for (let k = 0; k < perDay; k++) {
        const minutes = 60 * (2 + Math.floor(rnd() * 7));
        // 07:00 local ≈ 06:00 UTC in winter; successive slots of the day follow each other.
        const start = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 6 + k * 4, 0, 0));
        const project = projects.length > 0 ? pick(projects) : null;
        timeSlots.push({
          id: id++,
          startDate: start.toISOString(),
          userId: u.id,
          projectId: project ? project.id : null,
          managementStatus: pick(STATUSES),
          totalTimeMinutes: minutes,
          hasPackedLunch: rnd() < 0.5,
          hasHomeToWorkJourney: rnd() < 0.4,
        });
      }
    }
  }
  return { users, projects, timeSlots };
}
