import type { Timer } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { Dynamo } from './context.ts';

const FIVE_YEARS_SEC = 5 * 365 * 24 * 3600;
const SERVICE_IDENTITY = { type: 'Service' as const, principalId: 'dynamodb.amazonaws.com' };

/**
 * Deletes expired items. It sleeps until the earliest expiry any write has reported (a clock timer,
 * not a polling loop), deletes what is due in one transaction per table — each deletion marked as
 * the service's own for the stream — and sleeps again. Items whose TTL is more than five years in
 * the past are left alone, as AWS does.
 */
export class TtlSweeper {
  private timer?: Timer;
  private nextAt = Number.POSITIVE_INFINITY;

  constructor(
    private d: Dynamo,
    private logger: Logger,
  ) {}

  /** An expiry time was written; wake earlier if needed. */
  notify(atMs: number): void {
    if (atMs < this.nextAt) this.schedule(atMs);
  }

  /** Look at every TTL table (startup, reset) and schedule the next sweep. */
  start(): void {
    this.schedule(this.d.clock.now());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.nextAt = Number.POSITIVE_INFINITY;
  }

  private schedule(atMs: number): void {
    this.timer?.cancel();
    this.nextAt = atMs;
    this.timer = this.d.clock.at(atMs, () => this.sweep());
  }

  private sweep(): void {
    this.timer = undefined;
    this.nextAt = Number.POSITIVE_INFINITY;
    const now = this.d.clock.now();
    const nowSec = Math.floor(now / 1000);
    let next = Number.POSITIVE_INFINITY;
    try {
      for (const t of this.d.catalog.all()) {
        if (!t.ttl?.enabled) continue;
        this.d.tx(() => {
          for (const { key } of [...this.d.items.expiring(t, nowSec - FIVE_YEARS_SEC, nowSec)]) {
            const item = this.d.items.get(t, key);
            if (item) this.d.items.write(t, key, item, undefined, now, SERVICE_IDENTITY);
          }
        });
        const n = this.d.items.nextExpiry(t, nowSec + 1);
        if (n !== undefined) next = Math.min(next, n * 1000);
      }
    } catch (e) {
      this.logger.error('TTL sweep failed', { error: e instanceof Error ? e.message : String(e) });
    }
    if (next < this.nextAt) this.schedule(next);
  }
}
