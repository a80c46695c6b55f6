/**
 * The employee mapping cache: BatiSimply users and the Batigest salarié each one is mapped to (Salarie.codebs),
 * read from both sides and stored in the buffer for the mapping screen and `connecteur mapping`. Not a flow: it
 * writes nothing remote and keeps no journal.
 */
import type { Salarie } from '../../../shared/domain.js';
import type { BufferStore } from '../buffer/store.js';
import type { BatigestPort, BatisimplyPort, Clock } from '../ports.js';
import { clean, userDisplayName } from './mapping.js';

export interface EmployeeMappingRow {
  userId: string;
  name: string;
  email: string | null;
  salarieCode: string | null;
  salarieName: string | null;
}

export interface EmployeeMappingDeps {
  batigest: Pick<BatigestPort, 'readSalaries'>;
  batisimply: Pick<BatisimplyPort, 'listUsers'>;
  buffer: Pick<BufferStore, 'replaceEmployees'>;
  clock: Clock;
}

/** Reads BatiSimply users and Batigest salariés, stores the mapping cache and returns it. */
export async function refreshEmployeeMapping(d: EmployeeMappingDeps, signal?: AbortSignal): Promise<EmployeeMappingRow[]> {
  const [users, salaries] = await Promise.all([d.batisimply.listUsers({ signal }), d.batigest.readSalaries()]);
  const byCodebs = new Map<string, Salarie>();
  for (const s of salaries) if (s.codebs && s.codebs.trim()) byCodebs.set(s.codebs.trim().toLowerCase(), s);
  const rows = users.map((u) => {
    const s = byCodebs.get(u.id.toLowerCase()) ?? null;
    return {
      batisimply_user_id: u.id,
      // Names from outside, made storable and readable (control characters such as U+0000 dropped).
      first_name: clean(u.firstName),
      last_name: clean(u.lastName),
      email: clean(u.email),
      salarie_code: s?.code ?? null,
      salarie_name: s ? [s.prenom, s.nom].filter(Boolean).join(' ') : null,
    };
  });
  await d.buffer.replaceEmployees(rows, d.clock.now());
  return rows.map((r) => ({
    userId: r.batisimply_user_id,
    name: userDisplayName({ id: r.batisimply_user_id, firstName: r.first_name, lastName: r.last_name, email: r.email }),
    email: r.email,
    salarieCode: r.salarie_code,
    salarieName: r.salarie_name,
  }));
}
