// Fixed-window counters in memory: enough for one API process guarding login.
// (Several API replicas would each count on their own; see docs/architecture.md.)
export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one attempt; `allowed` is false once the limit is passed. */
  hit(key: string): { allowed: boolean; retryAfterSeconds: number } {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, w);
    }
    w.count += 1;
    if (this.windows.size > 50_000) this.sweep(now);
    return { allowed: w.count <= this.limit, retryAfterSeconds: Math.ceil((w.resetAt - now) / 1000) };
  }

  blocked(key: string): boolean {
    const w = this.windows.get(key);
    return Boolean(w && w.resetAt > this.now() && w.count >= this.limit);
  }

  retryAfter(key: string): number {
    const w = this.windows.get(key);
    return w ? Math.max(1, Math.ceil((w.resetAt - this.now()) / 1000)) : 1;
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
  }
}
