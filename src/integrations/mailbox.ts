import type { Clock } from '../core/clock.ts';
import type { RawRequest, RawResponse } from '../protocol/types.ts';
import type { Storage } from '../storage/types.ts';

const NS = 'mailbox';

export interface Mail {
  id: number;
  to: string;
  from: string;
  subject: string;
  body: string;
  /** ISO time (clock). */
  date: string;
  /** Present on SNS mails: the topic and subscription, and the confirm link for confirmations. */
  topicArn?: string;
  subscriptionArn?: string;
  type?: 'SubscriptionConfirmation' | 'Notification';
  confirmUrl?: string;
}

/**
 * The local mailbox: there is no mail server on a laptop, so email and email-json deliveries land
 * here, readable with `GET /_eddy/mail` (JSON; `?to=<address>` filters) and `eddy mail`.
 * `DELETE /_eddy/mail` empties it.
 */
export class Mailbox {
  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
  ) {}

  /** Append a mail (call inside a transaction). */
  put(mail: Omit<Mail, 'id' | 'date'>): Mail {
    const last = [...this.storage.kv.range(NS, { reverse: true, limit: 1 })][0];
    const id = last ? last[0].readUInt32BE(0) + 1 : 1;
    const key = Buffer.alloc(4);
    key.writeUInt32BE(id);
    const full: Mail = { id, date: new Date(this.clock.now()).toISOString(), ...mail };
    this.storage.kv.put(NS, key, JSON.stringify(full));
    return full;
  }

  list(to?: string): Mail[] {
    const out: Mail[] = [];
    for (const [, v] of this.storage.kv.range(NS)) {
      const m = JSON.parse(v) as Mail;
      if (!to || m.to.toLowerCase() === to.toLowerCase()) out.push(m);
    }
    return out;
  }

  clear(): void {
    this.storage.kv.drop(NS);
  }

  route(req: RawRequest): RawResponse | undefined {
    if (req.path !== '/_eddy/mail') return undefined;
    if (req.method === 'GET') {
      const body = JSON.stringify({ messages: this.list(req.query.get('to') ?? undefined) }, null, 2);
      return { status: 200, headers: { 'content-type': 'application/json' }, body };
    }
    if (req.method === 'DELETE') {
      this.clear();
      return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"cleared"}' };
    }
    return {
      status: 405,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: `Method ${req.method} not allowed on ${req.path}` }),
    };
  }
}
