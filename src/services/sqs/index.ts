import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../core/context.ts';
import type { MetricsPort, ServiceDeps } from '../../core/ports.ts';
import type { ServiceImpl } from '../../gateway/service.ts';
import {
  ALL_ATTRIBUTE_NAMES,
  defaultAttributes,
  READ_ONLY,
  redriveAllowed,
  SETTABLE,
  validateAttributes,
} from './attributes.ts';
import {
  type QueueMeta,
  type Received,
  type SendInput,
  type SendResult,
  SqsEngine,
  type StoredAttr,
} from './engine.ts';
import {
  invalidAttributeName,
  invalidParameter,
  missingParameter,
  queueDoesNotExist,
  sqsError,
  unsupported,
} from './errors.ts';
import { md5OfAttributes } from './md5.ts';
import { checkBatch, checkCharacters, normaliseAttributes } from './validate.ts';

export { SqsEngine } from './engine.ts';

/** What other services reach SQS through (implemented here, wired in integrations/). */
export interface SqsApi {
  /** Send into a queue by ARN, inside the caller's transaction. Throws an AwsError when refused. */
  sendByArn(queueArn: string, message: InternalMessage): SendResult;
  queueExists(queueArn: string): boolean;
  /** Test/inspection helper: the messages a queue holds, without receiving them. */
  peek(queueArn: string): { messageId: string; body: string; attributes?: Record<string, StoredAttr> }[];
}

export interface InternalMessage {
  body: string;
  messageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string | Buffer }>;
  groupId?: string;
  dedupId?: string;
  senderId?: string;
}

const NAME_RE = /^[A-Za-z0-9_-]{1,80}$/;
const MOVE_TASKS = 'sqs:mt';

interface MoveTask {
  TaskHandle: string;
  Status: 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';
  SourceArn: string;
  DestinationArn?: string;
  MaxNumberOfMessagesPerSecond?: number;
  ApproximateNumberOfMessagesMoved: number;
  ApproximateNumberOfMessagesToMove: number;
  StartedTimestamp: number;
}
const FIFO_NAME_RE = /^[A-Za-z0-9_-]{1,75}\.fifo$/;
const SYSTEM_ATTRIBUTE_NAMES = new Set([
  'All',
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageDeduplicationId',
  'MessageGroupId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
]);

export function createSqsService(
  deps: ServiceDeps,
  metrics?: MetricsPort,
): {
  service: ServiceImpl;
  api: SqsApi;
  engine: SqsEngine;
  stop(): void;
} {
  const engine = new SqsEngine(deps.storage, deps.clock, deps.logger, metrics);
  // AWS/SQS queue depths, sampled by CloudWatch once a minute.
  const removeGauge = metrics?.addGauge?.(() => engine.depthGauges());
  const { storage, clock } = deps;

  const queueUrl = (ctx: RequestContext, q: QueueMeta) => `${ctx.endpoint}/${q.account}/${q.name}`;

  /** Resolve a queue URL in any of the forms SDKs use: `http://host/<account>/<name>`, `sqs.<region>.host/...`. */
  function resolve(url: unknown, ctx: RequestContext): QueueMeta {
    if (typeof url !== 'string' || !url) throw missingParameter('QueueUrl');
    let path = url;
    if (/^https?:\/\//i.test(url)) {
      try {
        path = new URL(url).pathname;
      } catch {
        throw queueDoesNotExist();
      }
    }
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const name = parts.at(-1);
    const account = parts.length >= 2 && /^\d{12}$/.test(parts.at(-2)!) ? parts.at(-2)! : ctx.accountId;
    if (!name) throw queueDoesNotExist();
    return engine.requireQueue(account, ctx.region, name);
  }

  const moveTasks = (arn: string): MoveTask[] => JSON.parse(storage.kv.get(MOVE_TASKS, Buffer.from(arn)) ?? '[]');
  const queueExists = (arn: string) => engine.getQueueByArn(arn) !== undefined;

  function checkRedriveSource(attrs: Record<string, string>, sourceArn: string) {
    if (!attrs.RedrivePolicy) return;
    const p = JSON.parse(attrs.RedrivePolicy) as { deadLetterTargetArn: string };
    const dlq = engine.getQueueByArn(p.deadLetterTargetArn);
    if (dlq && !redriveAllowed(dlq.attributes, sourceArn)) {
      throw sqsError(
        'InvalidParameterValue',
        `Value ${attrs.RedrivePolicy} for parameter RedrivePolicy is invalid. Reason: Queue ${sourceArn} is not allowed to use ${p.deadLetterTargetArn} as a dead-letter queue.`,
      );
    }
  }

  // ---- sending ----

  function prepareSend(q: QueueMeta, e: any, senderId: string): SendInput {
    const body = e.MessageBody;
    if (body === undefined || body === null || body === '') throw missingParameter('MessageBody');
    checkCharacters(String(body), 'body');
    const user = normaliseAttributes(e.MessageAttributes, 'user');
    const sys = normaliseAttributes(e.MessageSystemAttributes, 'system');
    const max = Number(q.attributes.MaximumMessageSize ?? 1048576);
    if (Buffer.byteLength(String(body), 'utf8') + user.size > max) {
      throw invalidParameter(`One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes.`);
    }
    const delay = e.DelaySeconds;
    if (delay !== undefined && delay !== null) {
      if (q.fifo) {
        throw invalidParameter(
          `Value ${delay} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
        );
      }
      if (!Number.isInteger(delay) || delay < 0 || delay > 900) {
        throw invalidParameter(
          `Value ${delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.`,
        );
      }
    }
    const groupId: string | undefined = e.MessageGroupId ?? undefined;
    const dedupId: string | undefined = e.MessageDeduplicationId ?? undefined;
    if (q.fifo) {
      if (groupId === undefined) throw missingParameter('MessageGroupId');
      if (dedupId === undefined && q.attributes.ContentBasedDeduplication !== 'true') {
        throw invalidParameter(
          'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
      }
    } else if (dedupId !== undefined) {
      throw invalidParameter(
        `Value ${dedupId} for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.`,
      );
    }
    for (const [label, v] of [
      ['MessageGroupId', groupId],
      ['MessageDeduplicationId', dedupId],
    ] as const) {
      if (v !== undefined && !/^[\x21-\x7e]{1,128}$/.test(v)) {
        throw invalidParameter(
          `Value ${v} for parameter ${label} is invalid. Reason: ${label} can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
        );
      }
    }
    return {
      body: String(body),
      delaySeconds: delay ?? undefined,
      attrs: user.attrs,
      sys: sys.attrs,
      groupId,
      dedupId,
      senderId,
      attrsSize: user.size,
    };
  }

  const senderOf = (ctx: RequestContext) => ctx.accessKeyId ?? ctx.accountId;

  // ---- receiving ----

  function renderMessage(r: Received, sysNames: Set<string>, attrNames: string[]) {
    const m = r.msg;
    const out: Record<string, unknown> = {
      MessageId: m.id,
      ReceiptHandle: r.receiptHandle,
      MD5OfBody: m.md5b,
      Body: m.body,
    };
    const all = sysNames.has('All');
    const want = (n: string) => all || sysNames.has(n);
    const a: Record<string, string> = {};
    if (want('SenderId')) a.SenderId = m.sender;
    if (want('SentTimestamp')) a.SentTimestamp = String(m.sent);
    if (want('ApproximateReceiveCount')) a.ApproximateReceiveCount = String(m.rc);
    if (want('ApproximateFirstReceiveTimestamp')) a.ApproximateFirstReceiveTimestamp = String(m.first ?? clock.now());
    if (want('SequenceNumber') && m.seqNo) a.SequenceNumber = m.seqNo;
    if (want('MessageDeduplicationId') && m.dedup !== undefined) a.MessageDeduplicationId = m.dedup;
    if (want('MessageGroupId') && m.group !== undefined) a.MessageGroupId = m.group;
    if (want('AWSTraceHeader') && m.sys?.AWSTraceHeader?.StringValue)
      a.AWSTraceHeader = m.sys.AWSTraceHeader.StringValue;
    if (want('DeadLetterQueueSourceArn') && m.dlqSource) a.DeadLetterQueueSourceArn = m.dlqSource;
    if (Object.keys(a).length) out.Attributes = a;
    if (m.attrs && attrNames.length) {
      const selected: Record<string, StoredAttr> = {};
      for (const [k, v] of Object.entries(m.attrs)) {
        const match = attrNames.some(
          (n) => n === 'All' || n === '.*' || n === k || (n.endsWith('.*') && k.startsWith(n.slice(0, -1))),
        );
        if (match) selected[k] = v;
      }
      if (Object.keys(selected).length) {
        out.MessageAttributes = selected;
        out.MD5OfMessageAttributes = md5OfAttributes(
          Object.fromEntries(
            Object.entries(selected).map(([k, v]) => [
              k,
              {
                DataType: v.DataType,
                StringValue: v.StringValue,
                BinaryValue: v.BinaryValue !== undefined ? Buffer.from(v.BinaryValue, 'base64') : undefined,
              },
            ]),
          ),
        );
      }
    }
    return out;
  }

  function intParam(v: unknown, name: string, lo: number, hi: number, reason: string): number | undefined {
    if (v === undefined || v === null) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi)
      throw invalidParameter(`Value ${v} for parameter ${name} is invalid. Reason: ${reason}`);
    return n;
  }

  // ---- queue attributes ----

  function queueAttributes(q: QueueMeta, names: string[] | undefined): Record<string, string> {
    const list = names?.length ? names : [];
    for (const n of list) if (!ALL_ATTRIBUTE_NAMES.has(n)) throw invalidAttributeName(n);
    const all = list.includes('All');
    const want = (n: string) => all || list.includes(n);
    const out: Record<string, string> = {};
    if (!list.length) return out;
    const c = engine.counts(q, {
      notVisible: want('ApproximateNumberOfMessagesNotVisible'),
      delayed: want('ApproximateNumberOfMessagesDelayed'),
    });
    const computed: Record<string, string> = {
      QueueArn: q.arn,
      ApproximateNumberOfMessages: String(c.visible),
      ApproximateNumberOfMessagesNotVisible: String(c.notVisible),
      ApproximateNumberOfMessagesDelayed: String(c.delayed),
      CreatedTimestamp: String(q.created),
      LastModifiedTimestamp: String(q.modified),
    };
    const order = [
      'QueueArn',
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
      'CreatedTimestamp',
      'LastModifiedTimestamp',
    ];
    for (const n of order) if (want(n)) out[n] = computed[n];
    for (const [k, v] of Object.entries(q.attributes)) if (want(k) && v !== '') out[k] = v;
    return out;
  }

  const nowSeconds = () => Math.floor(clock.now() / 1000);

  const operations: ServiceImpl['operations'] = {
    CreateQueue(input: { QueueName: string; Attributes?: Record<string, string>; tags?: Record<string, string> }, ctx) {
      const name = input.QueueName;
      if (typeof name !== 'string') throw missingParameter('QueueName');
      const attrs = input.Attributes ?? {};
      const fifo = attrs.FifoQueue === 'true';
      if (fifo ? !FIFO_NAME_RE.test(name) : !NAME_RE.test(name)) {
        throw invalidParameter(
          fifo || name.endsWith('.fifo')
            ? 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.'
            : 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
        );
      }
      const normalised = validateAttributes(attrs, { fifo: name.endsWith('.fifo'), creating: true, queueExists });
      const tags = input.tags ?? {};
      if (Object.keys(tags).length > 50) throw invalidParameter('Too many tags added for queue ' + name + '.');
      const existing = engine.getQueue(ctx.accountId, ctx.region, name);
      if (existing) {
        const diff = Object.entries(normalised)
          .filter(([k, v]) => (existing.attributes[k] ?? '') !== v)
          .map(([k]) => k);
        if (diff.length) {
          throw sqsError(
            'QueueNameExists',
            `A queue already exists with the same name and a different value for attribute ${diff[0]}`,
          );
        }
        return { QueueUrl: queueUrl(ctx, existing) };
      }
      if (engine.deletedRecently(ctx.accountId, ctx.region, name)) {
        throw sqsError(
          'QueueDeletedRecently',
          'You must wait 60 seconds after deleting a queue before you can create another with the same name.',
        );
      }
      const arn = `arn:aws:sqs:${ctx.region}:${ctx.accountId}:${name}`;
      checkRedriveSource(normalised, arn);
      const meta: QueueMeta = {
        name,
        account: ctx.accountId,
        region: ctx.region,
        arn,
        fifo: name.endsWith('.fifo'),
        attributes: { ...defaultAttributes(name.endsWith('.fifo')), ...normalised },
        tags,
        created: nowSeconds(),
        modified: nowSeconds(),
      };
      storage.tx(() => engine.putQueue(meta));
      return { QueueUrl: queueUrl(ctx, meta) };
    },

    GetQueueUrl(input: { QueueName: string; QueueOwnerAWSAccountId?: string }, ctx) {
      const q = engine.getQueue(input.QueueOwnerAWSAccountId ?? ctx.accountId, ctx.region, input.QueueName);
      if (!q) throw queueDoesNotExist();
      return { QueueUrl: queueUrl(ctx, q) };
    },

    ListQueues(input: { QueueNamePrefix?: string; NextToken?: string; MaxResults?: number }, ctx) {
      const max = input.MaxResults;
      if (max !== undefined && (max < 1 || max > 1000)) {
        throw invalidParameter(
          `Value ${max} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.`,
        );
      }
      if (input.NextToken !== undefined && max === undefined) {
        throw invalidParameter('MaxResults is a mandatory parameter when you provide a value for NextToken.');
      }
      let after: string | undefined;
      if (input.NextToken) {
        try {
          after = JSON.parse(Buffer.from(input.NextToken, 'base64').toString()).after;
        } catch {
          throw invalidParameter('Invalid NextToken value.');
        }
      }
      const limit = max ?? 1000;
      const queues = engine.listQueues(ctx.accountId, ctx.region, input.QueueNamePrefix ?? '', after, limit + 1);
      const page = queues.slice(0, limit);
      const out: Record<string, unknown> = {};
      if (page.length) out.QueueUrls = page.map((q) => queueUrl(ctx, q));
      if (max !== undefined && queues.length > limit) {
        out.NextToken = Buffer.from(JSON.stringify({ after: page.at(-1)!.name })).toString('base64');
      }
      return out;
    },

    DeleteQueue(input: { QueueUrl: string }, ctx) {
      engine.deleteQueue(resolve(input.QueueUrl, ctx));
      return {};
    },

    GetQueueAttributes(input: { QueueUrl: string; AttributeNames?: string[] }, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      const attrs = queueAttributes(q, input.AttributeNames);
      return Object.keys(attrs).length ? { Attributes: attrs } : {};
    },

    SetQueueAttributes(input: { QueueUrl: string; Attributes: Record<string, string> }, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      for (const n of Object.keys(input.Attributes ?? {})) {
        if (READ_ONLY.includes(n) || !SETTABLE.has(n)) throw invalidAttributeName(n);
      }
      const normalised = validateAttributes(input.Attributes ?? {}, { fifo: q.fifo, creating: false, queueExists });
      checkRedriveSource(normalised, q.arn);
      delete normalised.FifoQueue;
      storage.tx(() => {
        const fresh = engine.getQueue(q.account, q.region, q.name) ?? q;
        for (const [k, v] of Object.entries(normalised)) {
          if (v === '' && (k === 'RedrivePolicy' || k === 'RedriveAllowPolicy' || k === 'Policy'))
            delete fresh.attributes[k];
          else fresh.attributes[k] = v;
        }
        fresh.modified = nowSeconds();
        engine.putQueue(fresh);
      });
      return {};
    },

    PurgeQueue(input: { QueueUrl: string }, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      const now = clock.now();
      if (q.lastPurgeMs !== undefined && q.lastPurgeMs + 60_000 > now) {
        throw sqsError(
          'PurgeQueueInProgress',
          `Only one PurgeQueue operation on ${q.name} is allowed every 60 seconds.`,
        );
      }
      storage.tx(() => {
        engine.purge(q);
        engine.putQueue({ ...q, lastPurgeMs: now });
      });
      return {};
    },

    SendMessage(input: any, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      const prepared = prepareSend(q, input, senderOf(ctx));
      const r = storage.tx(() => engine.send(q, prepared));
      return r;
    },

    SendMessageBatch(input: { QueueUrl: string; Entries: any[] }, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      checkBatch(input.Entries, 'SendMessageBatchRequestEntry');
      let total = 0;
      for (const e of input.Entries) {
        total += Buffer.byteLength(String(e.MessageBody ?? ''), 'utf8');
        for (const [k, v] of Object.entries<any>(e.MessageAttributes ?? {})) {
          total +=
            Buffer.byteLength(k) +
            Buffer.byteLength(String(v?.DataType ?? '')) +
            Buffer.byteLength(String(v?.StringValue ?? v?.BinaryValue ?? ''));
        }
      }
      if (total > 1048576) {
        throw sqsError(
          'BatchRequestTooLong',
          `Batch requests cannot be longer than 1048576 bytes. You have sent ${total} bytes.`,
        );
      }
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      storage.tx(() => {
        for (const e of input.Entries) {
          try {
            const r = engine.send(q, prepareSend(q, e, senderOf(ctx)));
            Successful.push({ Id: e.Id, ...r });
          } catch (err: any) {
            if (!err?.code) throw err;
            Failed.push({ Id: e.Id, SenderFault: true, Code: err.code, Message: err.message });
          }
        }
      });
      return { Successful, Failed };
    },

    async ReceiveMessage(input: any, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      const max =
        intParam(input.MaxNumberOfMessages, 'MaxNumberOfMessages', 1, 10, 'Must be between 1 and 10, if provided.') ??
        1;
      const vt =
        intParam(input.VisibilityTimeout, 'VisibilityTimeout', 0, 43200, 'Must be between 0 and 43200, if provided.') ??
        Number(q.attributes.VisibilityTimeout);
      const wait =
        intParam(input.WaitTimeSeconds, 'WaitTimeSeconds', 0, 20, 'Must be >= 0 and <= 20, if provided.') ??
        Number(q.attributes.ReceiveMessageWaitTimeSeconds ?? 0);
      const sysNames = new Set<string>([...(input.AttributeNames ?? []), ...(input.MessageSystemAttributeNames ?? [])]);
      for (const n of sysNames)
        if (!SYSTEM_ATTRIBUTE_NAMES.has(n) && !ALL_ATTRIBUTE_NAMES.has(n)) throw invalidAttributeName(n);
      const attrNames: string[] = input.MessageAttributeNames ?? [];
      for (const n of attrNames) {
        if (n !== 'All' && n !== '.*' && !/^[A-Za-z0-9_\-.]+(\.\*)?$/.test(n))
          throw invalidParameter(`Value ${n} for parameter MessageAttributeName is invalid.`);
      }
      const attemptId: string | undefined = input.ReceiveRequestAttemptId ?? undefined;
      if (attemptId !== undefined && !/^[\x21-\x7e]{1,128}$/.test(attemptId)) {
        throw invalidParameter(`Value ${attemptId} for parameter ReceiveRequestAttemptId is invalid.`);
      }
      const attempt = () => engine.receive(q, max, vt, q.fifo ? attemptId : undefined);
      let got = attempt();
      if (!got.length && wait > 0) got = await engine.waitFor(q, wait, attempt);
      if (!got.length) engine.metric(q, [{ MetricName: 'NumberOfEmptyReceives', Value: 1, Unit: 'Count' }]);
      // An empty receive answers `{}` (no Messages member), as SQS does.
      return got.length ? { Messages: got.map((r) => renderMessage(r, sysNames, attrNames)) } : {};
    },

    DeleteMessage(input: { QueueUrl: string; ReceiptHandle: string }, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      engine.deleteMessage(q, input.ReceiptHandle);
      return {};
    },

    DeleteMessageBatch(input: { QueueUrl: string; Entries: { Id: string; ReceiptHandle: string }[] }, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      checkBatch(input.Entries, 'DeleteMessageBatchRequestEntry');
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const e of input.Entries) {
        try {
          engine.deleteMessage(q, e.ReceiptHandle);
          Successful.push({ Id: e.Id });
        } catch (err: any) {
          if (!err?.code) throw err;
          Failed.push({ Id: e.Id, SenderFault: true, Code: err.code, Message: err.message });
        }
      }
      return { Successful, Failed };
    },

    ChangeMessageVisibility(input: { QueueUrl: string; ReceiptHandle: string; VisibilityTimeout: number }, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      engine.changeVisibility(q, input.ReceiptHandle, input.VisibilityTimeout);
      return {};
    },

    ChangeMessageVisibilityBatch(
      input: { QueueUrl: string; Entries: { Id: string; ReceiptHandle: string; VisibilityTimeout?: number }[] },
      ctx,
    ) {
      const q = resolve(input.QueueUrl, ctx);
      checkBatch(input.Entries, 'ChangeMessageVisibilityBatchRequestEntry');
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const e of input.Entries) {
        try {
          engine.changeVisibility(q, e.ReceiptHandle, e.VisibilityTimeout ?? 0);
          Successful.push({ Id: e.Id });
        } catch (err: any) {
          if (!err?.code) throw err;
          Failed.push({ Id: e.Id, SenderFault: true, Code: err.code, Message: err.message });
        }
      }
      return { Successful, Failed };
    },

    ListQueueTags(input: { QueueUrl: string }, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      return Object.keys(q.tags).length ? { Tags: q.tags } : {};
    },

    TagQueue(input: { QueueUrl: string; Tags: Record<string, string> }, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      const tags = { ...q.tags, ...(input.Tags ?? {}) };
      if (Object.keys(tags).length > 50) throw invalidParameter(`Too many tags added for queue ${q.name}.`);
      storage.tx(() => engine.putQueue({ ...q, tags }));
      return {};
    },

    UntagQueue(input: { QueueUrl: string; TagKeys: string[] }, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      const tags = { ...q.tags };
      for (const k of input.TagKeys ?? []) delete tags[k];
      storage.tx(() => engine.putQueue({ ...q, tags }));
      return {};
    },

    ListDeadLetterSourceQueues(input: { QueueUrl: string; NextToken?: string; MaxResults?: number }, ctx) {
      const q = resolve(input.QueueUrl, ctx);
      const urls = engine
        .listQueues(ctx.accountId, ctx.region, '', undefined, 100_000)
        .filter(
          (s) => s.attributes.RedrivePolicy && JSON.parse(s.attributes.RedrivePolicy).deadLetterTargetArn === q.arn,
        )
        .map((s) => queueUrl(ctx, s));
      return { queueUrls: urls };
    },

    AddPermission: () => {
      throw unsupported('AddPermission');
    },
    RemovePermission: () => {
      throw unsupported('RemovePermission');
    },
    StartMessageMoveTask(input: { SourceArn: string; DestinationArn?: string; MaxNumberOfMessagesPerSecond?: number }) {
      const src = engine.getQueueByArn(input.SourceArn ?? '');
      if (!src)
        throw sqsError(
          'ResourceNotFoundException',
          "The resource that you specified for the SourceArn parameter doesn't exist.",
        );
      const rate = input.MaxNumberOfMessagesPerSecond;
      if (rate !== undefined && (rate < 1 || rate > 500)) {
        throw invalidParameter(
          `Value ${rate} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500, if provided.`,
        );
      }
      const isDlq = engine
        .listQueues(src.account, src.region, '', undefined, 100_000)
        .some(
          (q) => q.attributes.RedrivePolicy && JSON.parse(q.attributes.RedrivePolicy).deadLetterTargetArn === src.arn,
        );
      if (!isDlq) throw invalidParameter('Source queue must be configured as a Dead Letter Queue.');
      let dest: QueueMeta | undefined;
      if (input.DestinationArn) {
        dest = engine.getQueueByArn(input.DestinationArn);
        if (!dest)
          throw sqsError(
            'ResourceNotFoundException',
            "The resource that you specified for the DestinationArn parameter doesn't exist.",
          );
      }
      const started = clock.now();
      const { moved, total } = engine.redrive(src, dest);
      // Eddy moves at once: the task is COMPLETED by the time the call returns.
      const task: MoveTask = {
        TaskHandle: Buffer.from(JSON.stringify({ taskId: randomUUID(), sourceArn: src.arn })).toString('base64'),
        Status: 'COMPLETED',
        SourceArn: src.arn,
        DestinationArn: input.DestinationArn,
        MaxNumberOfMessagesPerSecond: rate,
        ApproximateNumberOfMessagesMoved: moved,
        ApproximateNumberOfMessagesToMove: total,
        StartedTimestamp: started,
      };
      const tasks = moveTasks(src.arn);
      tasks.unshift(task);
      storage.tx(() => storage.kv.put(MOVE_TASKS, Buffer.from(src.arn), JSON.stringify(tasks.slice(0, 10))));
      return { TaskHandle: task.TaskHandle };
    },
    ListMessageMoveTasks(input: { SourceArn: string; MaxResults?: number }) {
      const src = engine.getQueueByArn(input.SourceArn ?? '');
      if (!src)
        throw sqsError(
          'ResourceNotFoundException',
          "The resource that you specified for the SourceArn parameter doesn't exist.",
        );
      const max = input.MaxResults ?? 1;
      if (max < 1 || max > 10)
        throw invalidParameter(
          `Value ${max} for parameter MaxResults is invalid. Reason: Must be between 1 and 10, if provided.`,
        );
      return {
        Results: moveTasks(src.arn)
          .slice(0, max)
          .map(({ TaskHandle, ...rest }) => (rest.Status === 'RUNNING' ? { TaskHandle, ...rest } : rest)),
      };
    },
    CancelMessageMoveTask(input: { TaskHandle: string }) {
      let sourceArn = '';
      try {
        sourceArn = JSON.parse(Buffer.from(input.TaskHandle ?? '', 'base64').toString()).sourceArn;
      } catch {}
      const task = sourceArn ? moveTasks(sourceArn).find((t) => t.TaskHandle === input.TaskHandle) : undefined;
      if (!task) throw sqsError('ResourceNotFoundException', 'Task does not exist.');
      throw sqsError('ResourceNotFoundException', `Only active tasks can be cancelled. The task is ${task.Status}.`);
    },
  };

  const api: SqsApi = {
    sendByArn(queueArn, message) {
      const q = engine.getQueueByArn(queueArn);
      if (!q) throw queueDoesNotExist();
      const prepared = prepareSend(
        q,
        {
          MessageBody: message.body,
          MessageAttributes: message.messageAttributes,
          MessageGroupId: message.groupId,
          MessageDeduplicationId: q.fifo ? (message.dedupId ?? undefined) : undefined,
        },
        message.senderId ?? 'AIDAEDDYLOCALSERVICE',
      );
      if (q.fifo && prepared.dedupId === undefined && q.attributes.ContentBasedDeduplication !== 'true') {
        throw invalidParameter(
          'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
      }
      return storage.tx(() => engine.send(q, prepared));
    },
    queueExists,
    peek(queueArn) {
      const q = engine.getQueueByArn(queueArn);
      if (!q) return [];
      return storage.queue
        .visible(`sqs:${q.arn}`, Number.MAX_SAFE_INTEGER, 100_000)
        .map((r) => JSON.parse(r.data))
        .map((m) => ({ messageId: m.id, body: m.body, attributes: m.attrs }));
    },
  };

  return {
    service: {
      model: 'sqs',
      operations,
      selfValidating: new Set(['CreateQueue', 'SetQueueAttributes', 'GetQueueAttributes', 'ReceiveMessage']),
    },
    api,
    engine,
    stop: () => {
      removeGauge?.();
      engine.stop();
    },
  };
}
