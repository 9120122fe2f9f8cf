import { randomUUID } from 'node:crypto';
import type { Clock, Timer } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { DeliveryMessage, DeliveryPort } from '../services/sns/ports.ts';
import type { Storage } from '../storage/types.ts';

const OUTBOX = 'outbox';

export interface OutboxRow {
  target: string;
  message: DeliveryMessage;
  attempts: number;
  /** Clock ms of the first enqueue. */
  at: number;
  /** The row carries a message to the dead-letter target of another row that failed. */
  deadLetter?: true;
}

/** Watches delivery outcomes (metrics: SNS NumberOfNotificationsDelivered/Failed, Lambda DeadLetterErrors). */
export interface OutboxObserver {
  /** The row was delivered (sync sinks: after the commit that removed it). */
  delivered?(row: OutboxRow): void;
  /**
   * An attempt failed. `final` when the row is given up: `deadLettered` tells whether its message
   * went on to its dead-letter target.
   */
  failed?(row: OutboxRow, final: boolean, deadLettered: boolean): void;
}

/**
 * A sink delivers one row. Synchronous sinks (SQS, mailbox) run inside the transaction that removes
 * the outbox row, so delivery and removal commit together. Asynchronous sinks (HTTP, Lambda) lease
 * the row while they run. Throwing (or rejecting) means "retry later".
 */
export interface Sink {
  /** Does this sink take the target? */
  accepts(target: string): boolean;
  mode: 'sync' | 'async';
  deliver(target: string, message: DeliveryMessage): void | Promise<void>;
  /** Delays before retries, ms; the row is given up (dead-lettered) after the last one. */
  retryDelaysMs: number[];
}

/**
 * The transactional outbox and its drainer: the one delivery path. Rows live in `storage.queue`
 * (durable, visibility-ordered), written inside the producer's transaction; the drainer is woken
 * after commits (no polling) and by clock timers for retries and leases.
 */
export class Outbox implements DeliveryPort {
  private sinks: Sink[] = [];
  private scheduled = false;
  private draining = false;
  private timer: Timer | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;
  private inflight = new Set<Promise<void>>();
  private observers: OutboxObserver[] = [];

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  addSink(sink: Sink): void {
    this.sinks.push(sink);
  }

  observe(observer: OutboxObserver): void {
    this.observers.push(observer);
  }

  deliver(target: string, message: DeliveryMessage): void {
    this.enqueue({ target, message, attempts: 0, at: this.clock.now() });
  }

  private enqueue(row: OutboxRow): void {
    this.storage.queue.push(OUTBOX, randomUUID(), this.clock.now(), JSON.stringify(row));
    this.wake();
  }

  /** Tell the observers (never lets one break delivery). */
  private notify(fn: (o: OutboxObserver) => void): void {
    for (const o of this.observers) {
      try {
        fn(o);
      } catch (e) {
        this.logger.warn('delivery: observer failed', { error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  /** Schedule a drain after the current synchronous work (the producer's commit) finishes. */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.safeDrain();
    });
  }

  /** How many rows wait (delivery pending or retrying). */
  pending(): number {
    return this.storage.queue.count(OUTBOX).total;
  }

  /** Resolves when no delivery is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  private drain(): void {
    if (this.draining || this.stopped) return;
    this.draining = true;
    try {
      for (;;) {
        const now = this.clock.now();
        const rows = this.storage.queue.visible(OUTBOX, now, 100);
        if (!rows.length) break;
        for (const r of rows) this.deliverRow(r.id, JSON.parse(r.data) as OutboxRow);
      }
    } finally {
      this.draining = false;
    }
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    const next = this.storage.queue.nextVisibleAfter(OUTBOX, this.clock.now());
    if (next === undefined || next >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = next;
    this.timer = this.clock.at(next, () => {
      this.timerAt = Number.POSITIVE_INFINITY;
      this.timer = undefined;
      this.safeDrain();
    });
  }

  private safeDrain(): void {
    try {
      this.drain();
    } catch (e) {
      this.logger.error('delivery: drain failed', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  }

  private deliverRow(id: string, row: OutboxRow): void {
    const sink = this.sinks.find((s) => s.accepts(row.target));
    if (!sink) {
      this.logger.error('delivery: no sink for target; message dropped', { target: row.target, ...row.message.origin });
      this.storage.queue.remove(OUTBOX, id);
      return;
    }
    if (sink.mode === 'sync') {
      try {
        this.storage.tx(() => {
          sink.deliver(row.target, row.message);
          this.storage.queue.remove(OUTBOX, id);
        });
      } catch (e) {
        this.failed(id, row, sink, e);
        return;
      }
      if (this.observers.length) this.notify((o) => o.delivered?.(row));
      return;
    }
    // Async: lease the row for a minute of clock time; a crash mid-delivery redelivers it (at least once).
    this.storage.queue.update(OUTBOX, id, this.clock.now() + 60_000);
    const p = (async () => {
      try {
        await sink.deliver(row.target, row.message);
        if (this.stopped) return;
        this.storage.queue.remove(OUTBOX, id);
        if (this.observers.length) this.notify((o) => o.delivered?.(row));
      } catch (e) {
        if (!this.stopped) this.failed(id, row, sink, e);
      }
    })();
    this.inflight.add(p);
    void p.finally(() => {
      this.inflight.delete(p);
      if (!this.stopped) this.arm();
    });
  }

  private failed(id: string, row: OutboxRow, sink: Sink, e: unknown): void {
    const attempts = row.attempts + 1;
    const error = e instanceof Error ? e.message : String(e);
    const delays = row.message.retryDelaysMs ?? sink.retryDelaysMs;
    if (attempts <= delays.length) {
      this.logger.warn('delivery failed; will retry', { target: row.target, attempt: attempts, error });
      const delay = Math.max(0, delays[attempts - 1]);
      this.storage.queue.update(OUTBOX, id, this.clock.now() + delay, JSON.stringify({ ...row, attempts }));
      // An immediate retry is a wake-up, not a timer (a timer strictly after now would miss it).
      if (delay === 0) this.wake();
      if (this.observers.length) this.notify((o) => o.failed?.(row, false, false));
      return;
    }
    const dlq = row.message.deadLetterTarget;
    const deadLettered = !!dlq && dlq !== row.target;
    this.storage.tx(() => {
      this.storage.queue.remove(OUTBOX, id);
      if (dlq && dlq !== row.target) {
        this.logger.warn('delivery failed; moved to dead-letter target', {
          target: row.target,
          deadLetterTarget: dlq,
          error,
        });
        this.enqueue({
          target: dlq,
          message: {
            body: row.message.body,
            messageAttributes: row.message.messageAttributes,
            groupId: row.message.groupId,
            dedupId: row.message.dedupId,
            origin: row.message.origin,
          },
          attempts: 0,
          at: this.clock.now(),
          deadLetter: true,
        });
      } else {
        this.logger.error('delivery failed; message dropped', {
          target: row.target,
          attempts,
          error,
          ...row.message.origin,
        });
      }
    });
    if (this.observers.length) this.notify((o) => o.failed?.(row, true, deadLettered));
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }
}
