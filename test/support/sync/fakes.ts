/**
 * In-memory implementations of the ports, for fast unit tests of the engine's decisions.
 * The integration tests (test/integration/sync-*.test.ts) use the real gateway and client against
 * the simulators instead; these fakes only mirror the same semantics.
 */
import type { ChantierFieldChange, ChantierSource, ConnectionDiagnosis, DevisSource, Project, ProjectInput, Salarie, SuiviMoKey, SuiviMoOp, SuiviMoRow, TimeSlot } from '../../../src/shared/domain.js';
import { batisimplyUserSchema, projectSchema, timeSlotSchema } from '../../../src/shared/domain.js';
import { AppError } from '../../../src/shared/errors.js';
import type { BatigestPort, BatisimplyPort } from '../../../src/main/services/ports.js';
import type { BatigestCompany } from '../datasets/batigest.js';
import type { SimState } from '../batisimply/state.js';

const ok: ConnectionDiagnosis = { ok: true, code: null, message: 'OK', details: {} };
const k = (x: SuiviMoKey): string => `${x.codeChantier}|${x.codeSalarie}|${x.date}`;

export class MemoryBatigest implements BatigestPort {
  readonly suivi = new Map<string, SuiviMoRow>();
  stats = { applyCalls: 0, ops: 0 };
  failNextApply: AppError | null = null;
  constructor(readonly company: BatigestCompany) {
    for (const r of company.suiviMo) this.suivi.set(k(r), { ...r });
  }
  async testConnection(): Promise<ConnectionDiagnosis> {
    return ok;
  }
  async *readChantiers(): AsyncIterable<ChantierSource[]> {
    const rows = [...this.company.chantiers].sort((a, b) => a.code.localeCompare(b.code));
    for (let i = 0; i < rows.length; i += 50) yield rows.slice(i, i + 50).map((c) => ({ ...c }));
  }
  async *readDevis(): AsyncIterable<DevisSource[]> {
    yield this.company.devis.filter((d) => [0, 3, 4].includes(d.etat)).map((d) => ({ ...d }));
  }
  async readSalaries(): Promise<Salarie[]> {
    return this.company.salaries.map((s) => ({ code: s.code, nom: s.nom, prenom: s.prenom, codebs: s.codebs }));
  }
  async applySuiviMo(ops: SuiviMoOp[]): Promise<{ inserted: number; updated: number; deleted: number }> {
    if (this.failNextApply) {
      const e = this.failNextApply;
      this.failNextApply = null;
      throw e;
    }
    this.stats.applyCalls++;
    this.stats.ops += ops.length;
    let inserted = 0;
    let updated = 0;
    let deleted = 0;
    for (const op of ops) {
      if (op.kind === 'delete' || op.kind === 'move') {
        const key = op.kind === 'delete' ? op.key : op.from;
        if (this.suivi.delete(k(key))) deleted++;
      }
      if (op.kind === 'upsert' || op.kind === 'move') {
        if (this.suivi.has(k(op.row))) updated++;
        else inserted++;
        this.suivi.set(k(op.row), { ...op.row });
      }
    }
    return { inserted, updated, deleted };
  }
  async readSuiviMo(keys: SuiviMoKey[]): Promise<SuiviMoRow[]> {
    return keys.map((x) => this.suivi.get(k(x))).filter((r): r is SuiviMoRow => !!r);
  }
  async readDevisHours(states: readonly number[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const d of this.company.devis) if (d.chantier && states.includes(d.etat)) out.set(d.chantier, (out.get(d.chantier) ?? 0) + (d.tempsMO ?? 0));
    return out;
  }
  async chantierEtatCounts(): Promise<{ value: string; count: number }[]> {
    const m = new Map<string, number>();
    for (const c of this.company.chantiers) m.set(c.etat, (m.get(c.etat) ?? 0) + 1);
    return [...m].map(([value, count]) => ({ value, count }));
  }
  async writeChantierFields(changes: readonly ChantierFieldChange[]): Promise<{ updated: number }> {
    const codes = new Set<string>();
    for (const ch of changes) {
      const c = this.company.chantiers.find((x) => x.code === ch.code);
      if (!c) continue;
      codes.add(ch.code);
      Object.assign(c, { [ch.field]: ch.value });
    }
    return { updated: codes.size };
  }
  async close(): Promise<void> {}
}

/** A BatisimplyPort straight over the simulator's state (no HTTP). */
export class StateBatisimply implements BatisimplyPort {
  counts = { creates: 0, updates: 0 };
  constructor(readonly state: SimState) {}
  async testConnection(): Promise<ConnectionDiagnosis> {
    return ok;
  }
  private out(p: unknown): Project {
    return projectSchema.parse(JSON.parse(JSON.stringify(p)));
  }
  async listProjects(): Promise<Project[]> {
    return this.state.sortedProjects().map((p) => this.out(p));
  }
  async getProject(id: string): Promise<Project | null> {
    const p = this.state.projects.get(Number(id));
    return p ? this.out(p) : null;
  }
  async findProjectByCode(code: string): Promise<Project | null> {
    const p = this.state.findProjectByCode(code);
    return p ? this.out(p) : null;
  }
  async createProject(input: ProjectInput): Promise<Project> {
    if (this.state.findProjectByCode(input.projectCode)) {
      throw new AppError('BS_REQUEST_REJECTED', 'Code déjà utilisé.');
    }
    this.counts.creates++;
    return this.out(this.state.addProject({ ...input } as never));
  }
  async updateProject(id: string, input: ProjectInput): Promise<Project> {
    const p = this.state.projects.get(Number(id));
    if (!p) throw new AppError('BS_NOT_FOUND', 'Projet introuvable.');
    this.counts.updates++;
    Object.assign(p, input, { id: p.id, lastModifiedDate: this.state.nowIso() });
    return this.out(p);
  }
  async listTimeSlots(w: { start: Date; end: Date }): Promise<TimeSlot[]> {
    return this.state.slotsInWindow(w.start.getTime(), w.end.getTime()).map((s) => timeSlotSchema.parse(this.state.slotJson(s)));
  }
  /** As the real client: users that cannot be read (e.g. an id holding a NUL) are left out. */
  async listUsers() {
    return [...this.state.users.values()].filter((u) => batisimplyUserSchema.safeParse(u).success);
  }
  async close(): Promise<void> {}
}
