/**
 * Time is injected: services never read the wall clock or set their own timers. A `Clock` tells
 * the time and schedules callbacks; `VirtualClock` only moves when told, so time-driven behaviour
 * (TTL, retention, visibility, windows, alarms) is testable in milliseconds.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  readonly kind: 'real' | 'virtual';
  /** Milliseconds since the epoch. */
  now(): number;
  /** Run `fn` once the clock reaches `atMs` (immediately-ish if already past). */
  at(atMs: number, fn: () => void): Timer;
  /** Run `fn` after `ms` milliseconds of clock time. */
  after(ms: number, fn: () => void): Timer;
}

export class RealClock implements Clock {
  readonly kind = 'real' as const;
  now(): number {
    return Date.now();
  }
  at(atMs: number, fn: () => void): Timer {
    return this.after(atMs - Date.now(), fn);
  }
  after(ms: number, fn: () => void): Timer {
    // Node caps timers at 2^31-1 ms; re-arm for longer waits.
    const max = 2 ** 31 - 1;
    let handle: NodeJS.Timeout;
    const target = Date.now() + Math.max(0, ms);
    const arm = () => {
      const left = target - Date.now();
      handle = setTimeout(left > max ? arm : fn, Math.min(Math.max(0, left), max));
      handle.unref?.();
    };
    arm();
    return { cancel: () => clearTimeout(handle) };
  }
}

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class VirtualClock implements Clock {
  readonly kind = 'virtual' as const;
  private current: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(startMs = Date.now()) {
    this.current = startMs;
  }
  now(): number {
    return this.current;
  }
  at(atMs: number, fn: () => void): Timer {
    const p: Pending = { at: atMs, seq: this.seq++, fn, cancelled: false };
    this.pending.push(p);
    if (atMs <= this.current) queueMicrotask(() => this.fire(p));
    return {
      cancel: () => {
        p.cancelled = true;
      },
    };
  }
  after(ms: number, fn: () => void): Timer {
    return this.at(this.current + Math.max(0, ms), fn);
  }
  /** Move time forward, firing due timers in time order (timers scheduled while advancing fire too). */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.current = Math.max(this.current, next.at);
      this.fire(next);
      // Let promise continuations triggered by the timer run before the next one fires.
      await new Promise<void>((r) => setImmediate(r));
    }
    this.current = target;
  }
  /** Set the clock to an absolute time (never backwards). */
  async set(ms: number): Promise<void> {
    if (ms > this.current) await this.advance(ms - this.current);
  }
  private nextDue(limit: number): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.pending) {
      if (p.cancelled || p.at > limit) continue;
      if (!best || p.at < best.at || (p.at === best.at && p.seq < best.seq)) best = p;
    }
    return best;
  }
  private fire(p: Pending) {
    const i = this.pending.indexOf(p);
    if (i < 0) return;
    this.pending.splice(i, 1);
    if (!p.cancelled) p.fn();
  }
}

export function createClock(kind: 'real' | 'virtual'): Clock {
  return kind === 'virtual' ? new VirtualClock() : new RealClock();
}
