// SQS and SNS: SendMessage / ReceiveMessage+DeleteMessageBatch throughput, SNS → SQS delivery, and send
// throughput on an empty queue vs a deep one — Eddy vs moto, raw HTTP (SQS awsJson1_0, SNS awsQuery).
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { type Peer, type PeerSpec, PeerStartError, startPeer } from '../peers.ts';
import { cpuMicros } from '../proc.ts';
import { fmt, ratio, type Section, type Table, type Target } from '../report.ts';
import type { Suite, SuiteContext } from '../suite.ts';
import { errorText, jsonReq, ok, post, pump, queryReq, sleep } from '../wire.ts';

interface Counts {
  warmup: number;
  sends: number;
  publishes: number;
  probeSends: number;
  depth: number;
  /** Cap of each throughput phase. */
  capMs: number;
  /** Cap of the backlog-building phase (Eddy; moto gets `backlogCapSlowMs`). */
  backlogCapMs: number;
  backlogCapSlowMs: number;
}
const FULL: Counts = {
  warmup: 300,
  sends: 10_000,
  publishes: 5_000,
  probeSends: 5_000,
  depth: 100_000,
  capMs: 10_000,
  backlogCapMs: 60_000,
  backlogCapSlowMs: 15_000,
};
const QUICK: Counts = {
  warmup: 100,
  sends: 2_000,
  publishes: 1_000,
  probeSends: 1_000,
  depth: 10_000,
  capMs: 4_000,
  backlogCapMs: 10_000,
  backlogCapSlowMs: 4_000,
};
const INFLIGHT = 16;
const BODY = 'm'.repeat(128);

interface Result {
  spec: PeerSpec;
  unavailable?: string;
  send?: number;
  receive?: number;
  publish?: number;
  fanout?: number;
  fanoutDelivered?: number;
  sendEmpty?: number;
  sendDeep?: number;
  depth?: number;
  backlogPerS?: number;
  notes: string[];
}

const sqs = (op: string, payload: unknown) => jsonReq(`AmazonSQS.${op}`, 'sqs', payload);
const sns = (params: Record<string, string>) => queryReq('sns', { Version: '2010-03-31', ...params });

async function queue(port: number, name: string): Promise<{ url: string; arn: string }> {
  const q = await ok(port, sqs('CreateQueue', { QueueName: name }));
  const a = await ok(port, sqs('GetQueueAttributes', { QueueUrl: q.QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: q.QueueUrl, arn: a.Attributes.QueueArn };
}

/** Wait (bounded) until the process uses < 10% of a core over 250 ms; returns how long it took. */
async function settle(pid: number, capMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const c0 = cpuMicros(pid);
    await sleep(250);
    if (cpuMicros(pid) - c0 < 25_000 || performance.now() - t0 > capMs) return Math.round(performance.now() - t0);
  }
}

async function depthOf(port: number, url: string): Promise<number> {
  const a = await ok(
    port,
    sqs('GetQueueAttributes', { QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(a.Attributes?.ApproximateNumberOfMessages ?? Number.NaN);
}

/** A topic with one raw-delivery SQS subscription; returns the topic ARN. */
async function topic(port: number, name: string, queueArn: string): Promise<string> {
  const xml: string = await ok(port, sns({ Action: 'CreateTopic', Name: name }));
  const arn = /<TopicArn>([^<]+)<\/TopicArn>/.exec(xml)?.[1];
  if (!arn) throw new Error(`CreateTopic: no TopicArn in ${xml.slice(0, 200)}`);
  await ok(
    port,
    sns({
      Action: 'Subscribe',
      TopicArn: arn,
      Protocol: 'sqs',
      Endpoint: queueArn,
      'Attributes.entry.1.key': 'RawMessageDelivery',
      'Attributes.entry.1.value': 'true',
    }),
  );
  return arn;
}

const must = async (p: Promise<{ status: number; body: string }>, what: string) => {
  const res = await p;
  if (res.status !== 200) throw new Error(`${what} → HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  return res.body;
};

/** `n` SendMessage calls, 16 in flight; messages/s. */
async function sendPhase(port: number, agent: http.Agent, url: string, n: number, capMs: number, r: Result) {
  const req = sqs('SendMessage', { QueueUrl: url, MessageBody: BODY });
  const s = await pump(n, INFLIGHT, capMs, async () => {
    await must(post(port, req, agent), 'SendMessage');
    return 1;
  });
  if (s.errors) r.notes.push(`SendMessage: ${s.errors} errors; first: ${s.firstError}`);
  return { perS: s.units / (s.wallMs / 1000), units: s.units };
}

/**
 * 16 consumers, each ReceiveMessage (10 at most, no wait) + DeleteMessageBatch, until `want` messages
 * were received or `capMs` passed; returns messages received and the time of the last one.
 */
async function drain(port: number, agent: http.Agent, url: string, want: number, capMs: number, consumers = INFLIGHT) {
  const recv = sqs('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 });
  let got = 0;
  let last = performance.now();
  let error: string | undefined;
  const t0 = performance.now();
  const worker = async () => {
    while (got < want && performance.now() - t0 < capMs && !error) {
      try {
        const out = JSON.parse(await must(post(port, recv, agent), 'ReceiveMessage'));
        const msgs: any[] = out.Messages ?? [];
        if (msgs.length === 0) {
          await sleep(1);
          continue;
        }
        got += msgs.length;
        last = performance.now();
        await must(
          post(
            port,
            sqs('DeleteMessageBatch', {
              QueueUrl: url,
              Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
            agent,
          ),
          'DeleteMessageBatch',
        );
      } catch (e) {
        error = errorText(e);
      }
    }
  };
  await Promise.all(Array.from({ length: consumers }, worker));
  return { got, last, t0, error };
}

async function measure(peer: Peer, c: Counts, r: Result, ctx: SuiteContext, slow: boolean): Promise<void> {
  const port = peer.port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: INFLIGHT + 4 });
  try {
    // 0. Warm-up (both peers alike): a few hundred sends and publishes on a queue and topic of their own.
    const warm = await queue(port, 'bench-warm');
    const warmReq = sqs('SendMessage', { QueueUrl: warm.url, MessageBody: BODY });
    await pump(c.warmup, INFLIGHT, 2_000, async () => {
      await must(post(port, warmReq, agent), 'SendMessage (warm-up)');
      return 1;
    });
    const warmTopic = await topic(port, 'bench-warm-topic', warm.arn);
    const warmPub = sns({ Action: 'Publish', TopicArn: warmTopic, Message: BODY });
    await pump(c.warmup, INFLIGHT, 2_000, async () => {
      await must(post(port, warmPub, agent), 'Publish (warm-up)');
      return 1;
    });
    await drain(port, agent, warm.url, 2 * c.warmup, 2_000);

    // 1. SQS send, then receive + delete.
    const q = await queue(port, 'bench-q');
    const sent = await sendPhase(port, agent, q.url, c.sends, c.capMs, r);
    r.send = sent.perS;
    const d = await drain(port, agent, q.url, sent.units, c.capMs);
    if (d.error) r.notes.push(`receive: ${d.error}`);
    r.receive = d.got / ((d.last - d.t0) / 1000);
    if (d.got < sent.units) r.notes.push(`receive: ${fmt(d.got)} of ${fmt(sent.units)} messages within the cap`);
    ctx.log(`${r.spec.name} sqs: send ${fmt(r.send)} msg/s, receive+delete ${fmt(r.receive)} msg/s`);

    // 2. SNS → SQS: publish with 16 in flight while 4 consumers drain the subscribed queue.
    const fan = await queue(port, 'bench-fan');
    const topicArn = await topic(port, 'bench-topic', fan.arn);
    const pub = sns({ Action: 'Publish', TopicArn: topicArn, Message: BODY });
    const t0 = performance.now();
    const consuming = drain(port, agent, fan.url, c.publishes, c.capMs * 2, 4);
    const p = await pump(c.publishes, INFLIGHT, c.capMs, async () => {
      await must(post(port, pub, agent), 'Publish');
      return 1;
    });
    r.publish = p.units / (p.wallMs / 1000);
    if (p.errors) r.notes.push(`Publish: ${p.errors} errors; first: ${p.firstError}`);
    const got = await consuming;
    if (got.error) r.notes.push(`SNS → SQS receive: ${got.error}`);
    r.fanoutDelivered = got.got;
    r.fanout = got.got / ((got.last - t0) / 1000);
    if (got.got < p.units) r.notes.push(`SNS → SQS: ${fmt(got.got)} of ${fmt(p.units)} published messages received`);
    ctx.log(
      `${r.spec.name} sns: publish ${fmt(r.publish)} msg/s, publish → received in SQS ${fmt(r.fanout)} msg/s (${fmt(got.got)}/${fmt(p.units)})`,
    );

    // 3. Queue growth: send rate on an empty queue, then with a deep backlog.
    const deep = await queue(port, 'bench-deep');
    r.sendEmpty = (await sendPhase(port, agent, deep.url, c.probeSends, c.capMs, r)).perS;
    const batch = sqs('SendMessageBatch', {
      QueueUrl: deep.url,
      Entries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: BODY })),
    });
    const calls = Math.ceil((c.depth - c.probeSends) / 10);
    const b = await pump(calls, INFLIGHT, slow ? c.backlogCapSlowMs : c.backlogCapMs, async () => {
      const body = await must(post(port, batch, agent), 'SendMessageBatch');
      return JSON.parse(body).Successful?.length ?? 0;
    });
    if (b.errors) r.notes.push(`SendMessageBatch: ${b.errors} errors; first: ${b.firstError}`);
    r.backlogPerS = b.units / (b.wallMs / 1000);
    r.depth = await depthOf(port, deep.url);
    // Let the server finish the burst's background work (Eddy: the WAL checkpoint of ~100k writes)
    // so the probe measures the queue's depth, not the burst just before it.
    const settledMs = await settle(peer.pid, 15_000);
    if (settledMs > 0) r.notes.push(`waited ${fmt(settledMs)} ms for the server to go idle after the backlog`);
    r.sendDeep = (await sendPhase(port, agent, deep.url, c.probeSends, c.capMs, r)).perS;
    if (b.capped) r.notes.push(`backlog phase capped by time at depth ${fmt(r.depth)}`);
    ctx.log(
      `${r.spec.name} sqs growth: send ${fmt(r.sendEmpty)} msg/s empty, ${fmt(r.sendDeep)} msg/s at depth ${fmt(r.depth)} (backlog built at ${fmt(r.backlogPerS)} msg/s)`,
    );
  } finally {
    agent.destroy();
  }
}

const SQS_PROBE = async (port: number) => {
  try {
    return (await post(port, sqs('ListQueues', {}), false, 2000)).status === 200;
  } catch {
    return false;
  }
};

export const messagingSuite: Suite = {
  id: 'messaging',
  async run(ctx: SuiteContext): Promise<Section> {
    const c = ctx.quick ? QUICK : FULL;
    const specs = ctx.peers.filter((p) => p.id === 'eddy' || p.id === 'eddy-memory' || p.id === 'moto');
    const results: Result[] = specs.map((spec) => ({ spec, notes: [] }));
    for (const r of results) {
      if (performance.now() > ctx.deadline) {
        r.unavailable = 'skipped: time budget';
        continue;
      }
      let peer: Peer | undefined;
      try {
        peer = await startPeer(r.spec, { probe: SQS_PROBE });
        ctx.notePeer(r.spec, { version: peer.version, status: 'ran' });
        await measure(peer, c, r, ctx, r.spec.id === 'moto');
      } catch (e) {
        r.unavailable = e instanceof PeerStartError ? e.message : errorText(e);
        ctx.notePeer(r.spec, { status: `unavailable: ${r.unavailable}` });
        ctx.log(`${r.spec.name} messaging: ${r.unavailable}`);
      } finally {
        await peer?.stop();
      }
    }
    return section(results, c);
  },
};

function section(results: Result[], c: Counts): Section {
  const eddy = results.find((r) => r.spec.id === 'eddy');
  const others = results.filter((r) => r.spec.id !== 'eddy');
  const mk = (title: string, note: string, rows: [string, (r: Result) => number | undefined, number][]): Table => ({
    title,
    note,
    columns: ['', ...results.map((r) => r.spec.name), ...(eddy ? others.map((o) => `Eddy/${o.spec.name}`) : [])],
    rows: rows.map(([label, get, digits]) => [
      label,
      ...results.map((r) => (r.unavailable ? 'unavailable' : fmt(get(r), digits))),
      ...(eddy ? others.map((o) => ratio(get(eddy), get(o))) : []),
    ]),
  });
  const tables: Table[] = [
    mk(
      'SQS and SNS → SQS throughput (messages/s, higher is better)',
      `How to read: raw HTTP with a fixed signature; SQS speaks awsJson1_0 (\`AmazonSQS.*\`), SNS awsQuery (the only protocol SNS has). After a warm-up of up to ${c.warmup} sends and ${c.warmup} publishes (2 s cap each) on a queue and topic of their own. Send: up to ${fmt(c.sends)} SendMessage of ${BODY.length} bytes, ${INFLIGHT} in flight. Receive: ${INFLIGHT} consumers each looping ReceiveMessage (MaxNumberOfMessages 10, no wait) + DeleteMessageBatch until every sent message is received. SNS → SQS: up to ${fmt(c.publishes)} Publish, ${INFLIGHT} in flight, to a topic with one raw-delivery SQS subscription, while 4 consumers drain that queue; delivered/s = messages received ÷ (first Publish → last message received). Each phase is capped at ${c.capMs / 1000} s (a slow peer is measured on fewer messages).`,
      [
        ['SendMessage', (r) => r.send, 0],
        ['ReceiveMessage + DeleteMessageBatch', (r) => r.receive, 0],
        ['SNS Publish', (r) => r.publish, 0],
        ['SNS → SQS delivered', (r) => r.fanout, 0],
        ['SNS → SQS messages received', (r) => r.fanoutDelivered, 0],
      ],
    ),
    mk(
      'SQS send throughput vs queue depth (messages/s, higher is better)',
      `How to read: ${fmt(c.probeSends)} SendMessage (${INFLIGHT} in flight) into an empty queue, then a backlog built with SendMessageBatch (10 per call, ${INFLIGHT} in flight) towards ${fmt(c.depth)} messages (capped at ${c.backlogCapMs / 1000} s for Eddy, ${c.backlogCapSlowMs / 1000} s for moto), then ${fmt(c.probeSends)} SendMessage again. Deep/empty near 1× means no slowdown as the queue grows.`,
      [
        ['Send, empty queue', (r) => r.sendEmpty, 0],
        ['Backlog build (SendMessageBatch, messages/s)', (r) => r.backlogPerS, 0],
        ['Depth reached (ApproximateNumberOfMessages)', (r) => r.depth, 0],
        ['Send, deep queue', (r) => r.sendDeep, 0],
        [
          'Deep/empty send ratio (×100)',
          (r) => (r.sendDeep && r.sendEmpty ? (100 * r.sendDeep) / r.sendEmpty : undefined),
          0,
        ],
      ],
    ),
  ];
  const targets: Target[] = [];
  const moto = results.find((r) => r.spec.id === 'moto');
  if (eddy && moto) {
    for (const [label, get] of [
      ['SQS SendMessage', (r: Result) => r.send],
      ['SQS ReceiveMessage + DeleteMessageBatch', (r: Result) => r.receive],
      ['SNS → SQS delivered', (r: Result) => r.fanout],
    ] as const) {
      const e = get(eddy);
      const m = get(moto);
      targets.push({
        name: `${label} throughput: Eddy ≥ 10× moto`,
        value: e !== undefined && m !== undefined ? `${fmt(e)} vs ${fmt(m)} msg/s (${ratio(e, m)})` : 'not measured',
        target: '≥ 10×',
        pass: e !== undefined && m !== undefined ? e >= 10 * m : undefined,
      });
    }
  }
  if (eddy) {
    const reached = eddy.depth !== undefined && eddy.depth >= c.depth;
    const rr = eddy.sendDeep && eddy.sendEmpty ? eddy.sendDeep / eddy.sendEmpty : undefined;
    targets.push({
      name: `SQS send at depth ${fmt(c.depth)} vs empty (Eddy, no slowdown)`,
      value:
        rr !== undefined
          ? `${fmt(eddy.sendDeep)} vs ${fmt(eddy.sendEmpty)} msg/s (${rr.toFixed(2)}×) at depth ${fmt(eddy.depth)}`
          : 'not measured',
      target: `≥ 0.80× at depth ≥ ${fmt(c.depth)}`,
      pass: rr !== undefined ? rr >= 0.8 && reached : undefined,
    });
  }
  return {
    title: 'SQS and SNS',
    tables,
    targets,
    notes: results.flatMap((r) => [
      ...(r.unavailable ? [`${r.spec.name}: ${r.unavailable}`] : []),
      ...r.notes.map((n) => `${r.spec.name}: ${n}`),
    ]),
  };
}
