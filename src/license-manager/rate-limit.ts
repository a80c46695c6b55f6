/**
 * Fixed-window rate limiter kept in memory (one licence manager process). Buckets are keyed by an
 * arbitrary string (IP, hashed licence key); stale buckets are swept as the map grows.
 */
export interface RateDecision {
  allowed: boolean;
  /** Seconds until the window resets (for Retry-After). */
  retryAfterSeconds: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { windowStart: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  hit(id: string): RateDecision {
    const t = this.now();
    if (this.buckets.size > 50_000) this.sweep(t);
    let b = this.buckets.get(id);
    if (!b || t - b.windowStart >= this.windowMs) {
      b = { windowStart: t, count: 0 };
      this.buckets.set(id, b);
    }
    b.count++;
    const retryAfterSeconds = Math.max(1, Math.ceil((b.windowStart + this.windowMs - t) / 1000));
    return { allowed: b.count <= this.limit, retryAfterSeconds };
  }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) if (t - b.windowStart >= this.windowMs) this.buckets.delete(k);
  }
}
