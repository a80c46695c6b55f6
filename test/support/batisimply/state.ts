/**
 * In-memory state of the BatiSimply simulator: accounts, clients, tokens, projects, users, time slots.
 * Shapes follow SPEC §2 (JHipster entities behind Keycloak).
 */
import { randomBytes, randomUUID } from 'node:crypto';

export interface SimAccount {
  username: string;
  password: string;
  disabled?: boolean;
}

export interface SimClient {
  clientId: string;
  clientSecret: string;
  /** Whether this client may use the client_credentials grant (a Keycloak "service account"). */
  serviceAccount?: boolean;
}

export interface SimProject {
  id: number;
  projectCode: string;
  projectName: string;
  customerName?: string | null;
  comment?: string | null;
  address?: {
    street?: string | null;
    postalCode?: string | null;
    city?: string | null;
    countryCode?: string | null;
    googleFormattedAddress?: string | null;
    geoPoint?: { xLon: number; yLat: number } | null;
  } | null;
  budget?: { amount: number; currency: string } | null;
  hoursSold?: number | null;
  startEstimated?: string | null;
  endEstimated?: string | null;
  headQuarter?: { id: string | number } | null;
  projectManager?: string | null;
  isArchived?: boolean;
  isFinished?: boolean;
  projectColor?: string | null;
  lastModifiedDate?: string;
}

export interface SimUser {
  id: string;
  login: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  activated: boolean;
}

export interface SimTimeSlot {
  id: number;
  startDate: string;
  endDate: string;
  userId: string;
  projectId: number | null;
  managementStatus: string;
  totalTimeMinutes: number;
  hasPackedLunch: boolean;
  hasHomeToWorkJourney: boolean;
  lastModifiedDate: string;
}

export interface SimSeed {
  projects?: Array<Omit<SimProject, 'id'> & { id?: number }>;
  users?: Array<Partial<SimUser> & { id: string }>;
  timeSlots?: Array<
    Omit<SimTimeSlot, 'id' | 'lastModifiedDate' | 'hasPackedLunch' | 'hasHomeToWorkJourney' | 'endDate'> & {
      id?: number;
      endDate?: string;
      hasPackedLunch?: boolean;
      hasHomeToWorkJourney?: boolean;
      lastModifiedDate?: string;
    }
  >;
}

interface TokenRecord {
  subject: string;
  clientId: string;
  expiresAt: number;
  revoked: boolean;
}

export class SimState {
  readonly accounts = new Map<string, SimAccount>();
  readonly clients = new Map<string, SimClient>();
  readonly accessTokens = new Map<string, TokenRecord>();
  readonly refreshTokens = new Map<string, TokenRecord>();
  readonly projects = new Map<number, SimProject>();
  readonly users = new Map<string, SimUser>();
  readonly timeSlots = new Map<number, SimTimeSlot>();
  private nextProjectId = 1001;
  private nextSlotId = 50_001;

  constructor(
    private readonly now: () => number,
    accounts: SimAccount[],
    clients: SimClient[],
  ) {
    for (const a of accounts) this.accounts.set(a.username, { ...a });
    for (const c of clients) this.clients.set(c.clientId, { ...c });
  }

  nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  // ---------- tokens ----------

  issueTokens(subject: string, clientId: string, lifetimeS: number, refreshLifetimeS: number): { access: string; refresh: string } {
    const access = `sim-at-${randomBytes(18).toString('hex')}`;
    const refresh = `sim-rt-${randomBytes(18).toString('hex')}`;
    const t = this.now();
    this.accessTokens.set(access, { subject, clientId, expiresAt: t + lifetimeS * 1000, revoked: false });
    this.refreshTokens.set(refresh, { subject, clientId, expiresAt: t + refreshLifetimeS * 1000, revoked: false });
    return { access, refresh };
  }

  /** Returns the subject when the access token is valid, else a reason. */
  checkAccessToken(token: string): { ok: true; subject: string } | { ok: false; reason: string } {
    const rec = this.accessTokens.get(token);
    if (!rec) return { ok: false, reason: 'unknown token' };
    if (rec.revoked) return { ok: false, reason: 'token revoked' };
    if (rec.expiresAt <= this.now()) return { ok: false, reason: 'token expired' };
    const acc = this.accounts.get(rec.subject);
    if (acc?.disabled) return { ok: false, reason: 'account disabled' };
    return { ok: true, subject: rec.subject };
  }

  /** Consumes a refresh token (rotation, like Keycloak with "revoke refresh token" on). */
  useRefreshToken(token: string, clientId: string): TokenRecord | null {
    const rec = this.refreshTokens.get(token);
    if (!rec || rec.revoked || rec.expiresAt <= this.now() || rec.clientId !== clientId) return null;
    rec.revoked = true;
    return rec;
  }

  /** Revokes every token (or those of one subject) before their expiry: a Keycloak session logout. */
  revokeTokens(subject?: string): number {
    let n = 0;
    for (const map of [this.accessTokens, this.refreshTokens]) {
      for (const rec of map.values()) {
        if (!rec.revoked && (subject === undefined || rec.subject === subject)) {
          rec.revoked = true;
          n++;
        }
      }
    }
    return n;
  }

  /** Makes every access token expire now (refresh tokens stay valid). */
  expireAccessTokens(): void {
    const t = this.now();
    for (const rec of this.accessTokens.values()) rec.expiresAt = Math.min(rec.expiresAt, t);
  }

  setAccountDisabled(username: string, disabled: boolean): void {
    const acc = this.accounts.get(username);
    if (!acc) throw new Error(`simulator: no account ${username}`);
    acc.disabled = disabled;
  }

  // ---------- projects ----------

  addProject(p: Omit<SimProject, 'id'> & { id?: number }): SimProject {
    const id = p.id ?? this.nextProjectId++;
    if (id >= this.nextProjectId) this.nextProjectId = id + 1;
    const project: SimProject = { isArchived: false, isFinished: false, ...p, id, lastModifiedDate: p.lastModifiedDate ?? this.nowIso() };
    this.projects.set(id, project);
    return project;
  }

  findProjectByCode(code: string): SimProject | undefined {
    for (const p of this.projects.values()) if (p.projectCode === code) return p;
    return undefined;
  }

  /** The projects the workers' phones list: not finished, not archived (as the BatiSimply app shows them). */
  projectsOnPhones(): SimProject[] {
    return this.sortedProjects().filter((p) => p.isFinished !== true && p.isArchived !== true);
  }

  sortedProjects(): SimProject[] {
    return [...this.projects.values()].sort((a, b) => a.id - b.id);
  }

  // ---------- users ----------

  addUser(u: Partial<SimUser> & { id?: string }): SimUser {
    const id = u.id ?? randomUUID();
    const user: SimUser = {
      id,
      login: u.login ?? `user-${id.slice(0, 8)}`,
      firstName: u.firstName ?? null,
      lastName: u.lastName ?? null,
      email: u.email ?? null,
      activated: u.activated ?? true,
    };
    this.users.set(id, user);
    return user;
  }

  // ---------- time slots ----------

  addSlot(s: NonNullable<SimSeed['timeSlots']>[number]): SimTimeSlot {
    const id = s.id ?? this.nextSlotId++;
    if (id >= this.nextSlotId) this.nextSlotId = id + 1;
    const start = new Date(s.startDate);
    const slot: SimTimeSlot = {
      id,
      startDate: start.toISOString(),
      endDate: s.endDate ?? new Date(start.getTime() + s.totalTimeMinutes * 60_000).toISOString(),
      userId: s.userId,
      projectId: s.projectId,
      managementStatus: s.managementStatus,
      totalTimeMinutes: s.totalTimeMinutes,
      hasPackedLunch: s.hasPackedLunch ?? false,
      hasHomeToWorkJourney: s.hasHomeToWorkJourney ?? false,
      lastModifiedDate: s.lastModifiedDate ?? this.nowIso(),
    };
    this.timeSlots.set(id, slot);
    return slot;
  }

  /**
   * Edits a slot as a BatiSimply user would: hours, day (YYYY-MM-DD, keeps the time of day), project, user,
   * status, lunch/journey flags. Updates lastModifiedDate.
   */
  editSlot(
    id: number,
    patch: {
      totalTimeMinutes?: number;
      day?: string;
      startDate?: string;
      projectId?: number | null;
      userId?: string;
      managementStatus?: string;
      hasPackedLunch?: boolean;
      hasHomeToWorkJourney?: boolean;
    },
  ): SimTimeSlot {
    const slot = this.timeSlots.get(id);
    if (!slot) throw new Error(`simulator: no time slot ${id}`);
    let start = new Date(slot.startDate);
    if (patch.startDate !== undefined) start = new Date(patch.startDate);
    if (patch.day !== undefined) {
      const [y, m, d] = patch.day.split('-').map(Number) as [number, number, number];
      start = new Date(Date.UTC(y, m - 1, d, start.getUTCHours(), start.getUTCMinutes(), start.getUTCSeconds()));
    }
    if (patch.totalTimeMinutes !== undefined) slot.totalTimeMinutes = patch.totalTimeMinutes;
    slot.startDate = start.toISOString();
    slot.endDate = new Date(start.getTime() + slot.totalTimeMinutes * 60_000).toISOString();
    if (patch.projectId !== undefined) slot.projectId = patch.projectId;
    if (patch.userId !== undefined) slot.userId = patch.userId;
    if (patch.managementStatus !== undefined) slot.managementStatus = patch.managementStatus;
    if (patch.hasPackedLunch !== undefined) slot.hasPackedLunch = patch.hasPackedLunch;
    if (patch.hasHomeToWorkJourney !== undefined) slot.hasHomeToWorkJourney = patch.hasHomeToWorkJourney;
    slot.lastModifiedDate = this.nowIso();
    return slot;
  }

  deleteSlot(id: number): boolean {
    return this.timeSlots.delete(id);
  }

  /** Slots overlapping [start, end), ordered by id. */
  slotsInWindow(start: number, end: number): SimTimeSlot[] {
    return [...this.timeSlots.values()]
      .filter((s) => Date.parse(s.startDate) < end && Date.parse(s.endDate) > start)
      .sort((a, b) => a.id - b.id);
  }

  /** The JSON a time slot is served as. */
  slotJson(s: SimTimeSlot): Record<string, unknown> {
    const u = this.users.get(s.userId);
    const p = s.projectId !== null ? this.projects.get(s.projectId) : undefined;
    return {
      id: s.id,
      startDate: s.startDate,
      endDate: s.endDate,
      user: u
        ? { id: u.id, login: u.login, firstName: u.firstName, lastName: u.lastName, email: u.email }
        : { id: s.userId },
      project: s.projectId === null ? null : { id: s.projectId, projectCode: p?.projectCode ?? null, projectName: p?.projectName ?? null },
      managementStatus: s.managementStatus,
      totalTimeMinutes: s.totalTimeMinutes,
      hasPackedLunch: s.hasPackedLunch,
      hasHomeToWorkJourney: s.hasHomeToWorkJourney,
      lastModifiedDate: s.lastModifiedDate,
    };
  }

  load(seed: SimSeed): void {
    for (const u of seed.users ?? []) this.addUser(u);
    for (const p of seed.projects ?? []) this.addProject(p);
    for (const s of seed.timeSlots ?? []) this.addSlot(s);
  }
}
