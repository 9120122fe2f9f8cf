/**
 * DynamoDB Streams on the ordered log: the `StreamsPort` DynamoDB writes through (inside its own
 * transactions) and the four read operations of the Streams API.
 */
import type { RequestContext } from '../../core/context.ts';
import type { ItemChange, ServiceDeps, StreamsPort, StreamTableInfo, StreamViewType } from '../../core/ports.ts';
import type { ServiceImpl } from '../../gateway/service.ts';
import {
  DYNAMODB_SEQUENCE,
  decodeIterator,
  encodeIterator,
  formatSequence,
  type LogMeta,
  OrderedLogs,
  parseSequence,
  type ShardMeta,
} from '../../log/index.ts';
import {
  constraint,
  expiredIterator,
  limitExceeded,
  shardNotFound,
  streamNotFound,
  trimmed,
  validation,
} from './errors.ts';
import { buildRecord, recordFromRow, type StreamRecord } from './records.ts';

export const HOUR = 3_600_000;
/** AWS keeps stream records for 24 hours. */
export const RETENTION_MS = 24 * HOUR;
/** AWS closes a stream's shard and opens a child roughly every 4 hours. */
export const SHARD_ROLLOVER_MS = 4 * HOUR;
/** Shard iterators expire 15 minutes after they are issued. */
export const ITERATOR_TTL_MS = 15 * 60_000;
const MAX_RECORDS = 1000;
const MAX_BYTES = 1024 * 1024;

export interface StreamAttrs {
  accountId: string;
  region: string;
  tableName: string;
  label: string;
  viewType: StreamViewType;
  keySchema: StreamTableInfo['keySchema'];
}

export interface DynamoDbStreamsOptions {
  /** How often the open shard is closed and succeeded by a child. Default 4 h (as AWS). */
  shardRolloverMs?: number;
  /** How long records stay readable. Default 24 h (as AWS). */
  retentionMs?: number;
}

export interface DynamoDbStreams {
  service: ServiceImpl;
  port: StreamsPort;
  /** The streams' ordered logs: `subscribe(streamArn, shardId?, cb)` wakes a consumer on append. */
  logs: OrderedLogs<StreamAttrs>;
  /** Records of one shard from a position on (for in-process consumers such as event source mappings). */
  readRecords(
    streamArn: string,
    shardId: string,
    fromSeq: bigint,
    limit: number,
  ): { records: StreamRecord[]; nextSeq: bigint };
  stop(): void;
}

/** Stream ARN → `arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>`. */
export function streamArnOf(region: string, accountId: string, tableName: string, label: string): string {
  return `arn:aws:dynamodb:${region}:${accountId}:table/${tableName}/stream/${label}`;
}

/** A stream label is the creation time, ISO 8601 with milliseconds and no zone: `2015-05-20T20:51:10.252`. */
const labelOf = (ms: number) => new Date(ms).toISOString().slice(0, 23);

export function createDynamoDbStreamsService(deps: ServiceDeps, opts: DynamoDbStreamsOptions = {}): DynamoDbStreams {
  const { storage, clock, logger } = deps;
  const rolloverMs = opts.shardRolloverMs ?? SHARD_ROLLOVER_MS;
  const retentionMs = opts.retentionMs ?? RETENTION_MS;
  const logs = new OrderedLogs<StreamAttrs>({
    storage,
    clock,
    name: 'ddbstreams',
    onError: (e) =>
      logger.error('dynamodb streams maintenance failed', {
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      }),
  });
  logs.start();

  const port: StreamsPort = {
    enableStream(table: StreamTableInfo, nowMs: number) {
      let t = nowMs;
      let label = labelOf(t);
      let arn = streamArnOf(table.region, table.accountId, table.tableName, label);
      // Re-enabling within the same millisecond still gets a new stream.
      while (logs.get(arn)) {
        label = labelOf(++t);
        arn = streamArnOf(table.region, table.accountId, table.tableName, label);
      }
      logs.create(arn, nowMs, {
        retentionMs,
        rolloverMs,
        attrs: {
          accountId: table.accountId,
          region: table.region,
          tableName: table.tableName,
          label,
          viewType: table.viewType,
          keySchema: table.keySchema,
        },
      });
      return { streamArn: arn, streamLabel: label };
    },
    disableStream(streamArn: string, nowMs: number) {
      logs.close(streamArn, nowMs);
    },
    recordChange(streamArn: string, change: ItemChange, nowMs: number) {
      const r = logs.append(streamArn, (meta) => buildRecord(change, meta.attrs.viewType, nowMs), nowMs);
      if (!r) logger.debug('stream record for a missing or disabled stream dropped', { streamArn });
    },
  };

  const scopeOf = (ctx: RequestContext) => `arn:aws:dynamodb:${ctx.region}:${ctx.accountId}:table/`;

  function stream(arn: string, ctx: RequestContext): LogMeta<StreamAttrs> {
    if (typeof arn !== 'string' || !arn.startsWith(scopeOf(ctx))) throw streamNotFound(arn);
    const meta = logs.get(arn, ctx.clock.now());
    if (!meta) throw streamNotFound(arn);
    return meta;
  }

  function checkLimit(limit: number | undefined, max: number): number {
    if (limit === undefined) return max;
    if (limit > max) throw constraint(limit, 'limit', `Member must have value less than or equal to ${max}`);
    return limit;
  }

  function shardView(s: ShardMeta) {
    const range: { StartingSequenceNumber: string; EndingSequenceNumber?: string } = {
      StartingSequenceNumber: formatSequence(BigInt(s.startSeq), DYNAMODB_SEQUENCE),
    };
    if (s.endSeq !== undefined) range.EndingSequenceNumber = formatSequence(BigInt(s.endSeq), DYNAMODB_SEQUENCE);
    const out: { ShardId: string; SequenceNumberRange: typeof range; ParentShardId?: string } = {
      ShardId: s.shardId,
      SequenceNumberRange: range,
    };
    if (s.parents[0]) out.ParentShardId = s.parents[0];
    return out;
  }

  function readRecords(streamArn: string, shardId: string, fromSeq: bigint, limit: number) {
    const rows = logs.read(streamArn, shardId, fromSeq, limit);
    const records: StreamRecord[] = [];
    let bytes = 0;
    let next = fromSeq;
    for (const row of rows) {
      bytes += row.data.length;
      if (records.length > 0 && bytes > MAX_BYTES) return { records, nextSeq: next, exhausted: false };
      records.push(recordFromRow(row));
      next = row.seq + 1n;
    }
    return { records, nextSeq: next, exhausted: rows.length < limit };
  }

  const operations = {
    ListStreams(input: { TableName?: string; Limit?: number; ExclusiveStartStreamArn?: string }, ctx: RequestContext) {
      const limit = checkLimit(input.Limit, 100);
      const prefix = scopeOf(ctx) + (input.TableName !== undefined ? `${input.TableName}/stream/` : '');
      const found = logs.list(prefix, { after: input.ExclusiveStartStreamArn, limit: limit + 1, now: ctx.clock.now() });
      const page = found.slice(0, limit);
      const out: {
        Streams: { StreamArn: string; TableName: string; StreamLabel: string }[];
        LastEvaluatedStreamArn?: string;
      } = {
        Streams: page.map((m) => ({ StreamArn: m.id, TableName: m.attrs.tableName, StreamLabel: m.attrs.label })),
      };
      if (found.length > limit) out.LastEvaluatedStreamArn = page[page.length - 1].id;
      return out;
    },

    DescribeStream(
      input: {
        StreamArn: string;
        Limit?: number;
        ExclusiveStartShardId?: string;
        ShardFilter?: { Type?: string; ShardId?: string };
      },
      ctx: RequestContext,
    ) {
      const limit = checkLimit(input.Limit, 100);
      const meta = stream(input.StreamArn, ctx);
      let shards = meta.shards;
      if (input.ShardFilter) {
        const f = input.ShardFilter;
        if (f.Type !== 'CHILD_SHARDS')
          throw constraint(f.Type, 'shardFilter.type', 'Member must satisfy enum value set: [CHILD_SHARDS]');
        if (!f.ShardId)
          throw validation(
            "1 validation error detected: Value null at 'shardFilter.shardId' failed to satisfy constraint: Member must not be null",
          );
        shards = shards.filter((s) => s.parents.includes(f.ShardId!));
      }
      if (input.ExclusiveStartShardId !== undefined) {
        const i = shards.findIndex((s) => s.shardId === input.ExclusiveStartShardId);
        shards = i >= 0 ? shards.slice(i + 1) : shards.filter((s) => s.shardId > input.ExclusiveStartShardId!);
      }
      const page = shards.slice(0, limit);
      const a = meta.attrs;
      const desc: Record<string, unknown> = {
        StreamArn: meta.id,
        StreamLabel: a.label,
        StreamStatus: meta.status === 'open' ? 'ENABLED' : 'DISABLED',
        StreamViewType: a.viewType,
        CreationRequestDateTime: new Date(meta.createdAt),
        TableName: a.tableName,
        KeySchema: a.keySchema,
        Shards: page.map(shardView),
      };
      if (shards.length > limit) desc.LastEvaluatedShardId = page[page.length - 1].shardId;
      return { StreamDescription: desc };
    },

    GetShardIterator(
      input: { StreamArn: string; ShardId: string; ShardIteratorType: string; SequenceNumber?: string },
      ctx: RequestContext,
    ) {
      const now = ctx.clock.now();
      const meta = stream(input.StreamArn, ctx);
      const arn = meta.id;
      const shard = meta.shards.find((s) => s.shardId === input.ShardId);
      if (!shard) throw shardNotFound(input.ShardId, arn);
      let seq: bigint;
      switch (input.ShardIteratorType) {
        case 'TRIM_HORIZON': {
          const h = logs.trimHorizon(arn, shard.shardId, now);
          if (h === undefined) throw shardNotFound(input.ShardId, arn);
          seq = h;
          break;
        }
        case 'LATEST':
          seq = logs.latest(arn, shard.shardId)!;
          break;
        default: {
          // AT_SEQUENCE_NUMBER / AFTER_SEQUENCE_NUMBER (the model has already checked the enum).
          if (input.SequenceNumber === undefined) {
            throw validation(`A sequence number is required when the ShardIteratorType is ${input.ShardIteratorType}`);
          }
          const at = parseSequence(input.SequenceNumber, DYNAMODB_SEQUENCE);
          const current = logs.get(arn, now)?.shards.find((s) => s.shardId === shard.shardId);
          if (!current) throw trimmed();
          const start = BigInt(current.startSeq);
          const end = current.endSeq !== undefined ? BigInt(current.endSeq) : logs.latest(arn, shard.shardId)! - 1n;
          if (at === undefined || at < start || at > end) {
            throw validation(
              `Invalid SequenceNumber ${input.SequenceNumber} for shard ${input.ShardId} of stream ${arn}`,
            );
          }
          const horizon = logs.trimHorizon(arn, shard.shardId, now)!;
          const after = logs.get(arn)!.shards.find((s) => s.shardId === shard.shardId)!;
          if (after.trimmedThrough !== undefined && at <= BigInt(after.trimmedThrough) && at < horizon) throw trimmed();
          seq = input.ShardIteratorType === 'AT_SEQUENCE_NUMBER' ? at : at + 1n;
        }
      }
      return { ShardIterator: iteratorToken(arn, shard.shardId, seq, now) };
    },

    GetRecords(input: { ShardIterator: string; Limit?: number }, ctx: RequestContext) {
      const now = ctx.clock.now();
      if (input.Limit !== undefined && input.Limit > MAX_RECORDS) {
        throw limitExceeded(`The Limit of GetRecords must be less than or equal to ${MAX_RECORDS}, was ${input.Limit}`);
      }
      const limit = input.Limit ?? MAX_RECORDS;
      const state = parseToken(input.ShardIterator);
      if (!state) throw validation('Invalid ShardIterator');
      if (now - state.issuedAt > ITERATOR_TTL_MS) throw expiredIterator();
      const meta = stream(state.logId, ctx);
      const horizon = logs.trimHorizon(meta.id, state.shardId, now);
      const shard = logs.get(meta.id)?.shards.find((s) => s.shardId === state.shardId);
      if (horizon === undefined || !shard) throw trimmed();
      if (shard.trimmedThrough !== undefined && state.seq <= BigInt(shard.trimmedThrough)) throw trimmed();
      const { records, nextSeq, exhausted } = readRecords(meta.id, state.shardId, state.seq, limit);
      const out: { Records: unknown[]; NextShardIterator?: string } = {
        Records: records.map((r) => ({
          ...r,
          dynamodb: {
            ...r.dynamodb,
            ApproximateCreationDateTime: new Date(r.dynamodb.ApproximateCreationDateTime * 1000),
          },
        })),
      };
      // A closed shard read to its end hands out no further iterator.
      const closedAndDone = shard.endSeq !== undefined && (exhausted || nextSeq > BigInt(shard.endSeq));
      if (!closedAndDone) out.NextShardIterator = iteratorToken(meta.id, state.shardId, nextSeq, now);
      return out;
    },
  };

  return {
    service: { model: 'dynamodbstreams', operations },
    port,
    logs,
    readRecords,
    stop: () => logs.stop(),
  };
}

/** `<stream arn>|1|<opaque>` as AWS shapes DynamoDB Streams iterators. */
function iteratorToken(arn: string, shardId: string, seq: bigint, issuedAt: number): string {
  return `${arn}|1|${encodeIterator({ logId: arn, shardId, seq, issuedAt })}`;
}

function parseToken(token: string) {
  const i = token.indexOf('|1|');
  if (i < 0) return undefined;
  const state = decodeIterator(token.slice(i + 3));
  if (!state || state.logId !== token.slice(0, i)) return undefined;
  return state;
}
