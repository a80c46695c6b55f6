/**
 * Fault injection and request log of the BatiSimply simulator.
 *
 * Routes are named `METHOD /path-pattern`, e.g. `GET /api/project`, `GET /api/project/{id}`,
 * `PUT /api/project/{id}`, `GET /api/timeSlotManagement/allUsers`, `GET /api/users`, `POST /api/quote`,
 * `POST /token` (the Keycloak token endpoint). A fault with route `*` matches every API route (not the token one).
 */

export interface FaultSpec {
  route: string;
  /** How many matching requests this fault applies to (default 1; Infinity for "always"). */
  times?: number;
  /** Answer with this status instead of processing the request. */
  status?: number;
  /** Adds a Retry-After header, in seconds. */
  retryAfterSeconds?: number;
  /** Adds a Retry-After header as an HTTP date. */
  retryAfterDate?: Date;
  /** Waits this long before answering (then answers normally unless another option says otherwise). */
  latencyMs?: number;
  /** Destroys the socket without any answer (ECONNRESET / "other side closed" on the client). */
  reset?: boolean;
  /** Processes the request, announces the full Content-Length, sends half the body and drops the connection. */
  truncate?: boolean;
  /** Answers 200 with a body that is not JSON. */
  malformedJson?: boolean;
  /** Replaces the answer's body (any JSON value or a raw string) with this, keeping the status (default 200). */
  body?: unknown;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

export interface ActiveFault extends FaultSpec {
  remaining: number;
  hits: number;
}

export class FaultRegistry {
  private readonly list: ActiveFault[] = [];

  add(spec: FaultSpec): ActiveFault {
    const f: ActiveFault = { ...spec, remaining: spec.times ?? 1, hits: 0 };
    this.list.push(f);
    return f;
  }

  clear(): void {
    this.list.length = 0;
  }

  /** Faults not yet used up. */
  pending(): ActiveFault[] {
    return this.list.filter((f) => f.remaining > 0);
  }

  /** Takes the first matching fault for this route, consuming one use. */
  take(route: string, isToken: boolean): ActiveFault | undefined {
    const f = this.list.find((x) => x.remaining > 0 && (x.route === route || (x.route === '*' && !isToken)));
    if (!f) return undefined;
    f.remaining--;
    f.hits++;
    return f;
  }
}

export interface LogEntry {
  seq: number;
  at: number;
  route: string;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, or the form fields for the token endpoint (secrets included: it's a test server). */
  body: unknown;
  status: number;
  /** Name of the fault applied, if any. */
  fault: string | null;
  /** Token endpoint only. */
  grantType?: string;
  authorized?: boolean;
}

export class RequestLog {
  readonly entries: LogEntry[] = [];
  private seq = 0;
  /** API requests being handled right now, and the most seen at once (bounded concurrency checks). */
  inFlight = 0;
  maxInFlight = 0;

  private arrivals = 0;
  private clearedAt = 0;

  /** Numbers a request when it arrives (see push). */
  arrive(): number {
    return ++this.arrivals;
  }

  /** Records a finished request; one that arrived before the last clear() is dropped (late, slow answers). */
  push(e: Omit<LogEntry, 'seq'>, arrival = Number.POSITIVE_INFINITY): LogEntry {
    const entry = { ...e, seq: ++this.seq };
    if (arrival > this.clearedAt) this.entries.push(entry);
    return entry;
  }

  /** Requests received for a route (all statuses, faults included). */
  count(route?: string): number {
    return route === undefined ? this.entries.length : this.entries.filter((e) => e.route === route).length;
  }

  of(route: string): LogEntry[] {
    return this.entries.filter((e) => e.route === route);
  }

  /** Token requests, optionally of one grant type. */
  tokenRequests(grantType?: string): LogEntry[] {
    return this.entries.filter((e) => e.route === 'POST /token' && (grantType === undefined || e.grantType === grantType));
  }

  countsByRoute(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const e of this.entries) out[e.route] = (out[e.route] ?? 0) + 1;
    return out;
  }

  /** Forgets every request received so far, including those still being answered. */
  clear(): void {
    this.entries.length = 0;
    this.clearedAt = this.arrivals;
    this.maxInFlight = this.inFlight;
  }
}
