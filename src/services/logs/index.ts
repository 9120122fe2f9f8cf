import type { RequestContext } from '../../core/context.ts';
import { AwsError } from '../../core/errors.ts';
import type { LogsPort, MetricsPort, ServiceDeps } from '../../core/ports.ts';
import type { OperationHandler, ServiceImpl } from '../../gateway/service.ts';
import { loadModel } from '../../model/model.ts';
import { compileFilterPattern, FilterPatternError } from './filter-pattern.ts';

/**
 * CloudWatch Logs: log groups and streams indexed in kv, events on the shared ordered log
 * (`storage.log`, one shard per log stream). Retention trims on the clock.
 */

interface GroupRecord {
  name: string;
  createdAt: number;
  retentionInDays?: number;
  kmsKeyId?: string;
  tags: Record<string, string>;
}
interface StreamRecord {
  name: string;
  createdAt: number;
  firstTs?: number;
  lastTs?: number;
  lastIngestion?: number;
  nextSeq: number;
  storedBytes: number;
}
interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
  seq: number;
}

const G = 'logs.group';
const S = 'logs.stream';
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
const DAY = 86_400_000;

const notFound = (message: string) => new AwsError('ResourceNotFoundException', message, 400);
const exists = (message: string) => new AwsError('ResourceAlreadyExistsException', message, 400);
const invalid = (message: string) => new AwsError('InvalidParameterException', message, 400);

export function createLogsService(
  deps: ServiceDeps,
  metrics?: MetricsPort,
): { service: ServiceImpl; port: LogsPort; stop(): void } {
  const { storage, clock } = deps;
  const gkey = (a: string, r: string, g: string) => Buffer.from(`${a}\0${r}\0${g}`);
  const skey = (a: string, r: string, g: string, s: string) => Buffer.from(`${a}\0${r}\0${g}\0${s}`);
  const logId = (a: string, r: string, g: string) => `logs/${a}/${r}/${g}`;

  const getGroup = (a: string, r: string, g: string): GroupRecord | undefined => {
    const raw = storage.kv.get(G, gkey(a, r, g));
    return raw ? JSON.parse(raw) : undefined;
  };
  const requireGroup = (a: string, r: string, g: string) => {
    const grp = getGroup(a, r, g);
    if (!grp) throw notFound('The specified log group does not exist.');
    return grp;
  };
  const getStream = (a: string, r: string, g: string, s: string): StreamRecord | undefined => {
    const raw = storage.kv.get(S, skey(a, r, g, s));
    return raw ? JSON.parse(raw) : undefined;
  };
  const streamsOf = (a: string, r: string, g: string): StreamRecord[] => {
    const prefix = `${a}\0${r}\0${g}\0`;
    const out: StreamRecord[] = [];
    for (const [, v] of storage.kv.range(S, { gte: Buffer.from(prefix), lt: Buffer.from(`${a}\0${r}\0${g}\x01`) }))
      out.push(JSON.parse(v));
    return out;
  };
  const groupsOf = (a: string, r: string): GroupRecord[] => {
    const out: GroupRecord[] = [];
    for (const [, v] of storage.kv.range(G, { gte: Buffer.from(`${a}\0${r}\0`), lt: Buffer.from(`${a}\0${r}\x01`) }))
      out.push(JSON.parse(v));
    return out;
  };
  const groupArn = (a: string, r: string, g: string) => `arn:aws:logs:${r}:${a}:log-group:${g}`;

  /** Events of one stream, oldest first, retention applied. */
  const readStream = (a: string, r: string, grp: GroupRecord, s: string): LogEvent[] => {
    const cutoff = grp.retentionInDays ? clock.now() - grp.retentionInDays * DAY : -Infinity;
    const out: LogEvent[] = [];
    let from = 0n;
    for (;;) {
      const rows = storage.log.read(logId(a, r, grp.name), s, from, 5000);
      for (const row of rows) {
        const [timestamp, ingestionTime, message] = JSON.parse(row.data) as [number, number, string];
        if (timestamp >= cutoff) out.push({ timestamp, message, ingestionTime, seq: Number(row.seq) });
      }
      if (rows.length < 5000) break;
      from = rows[rows.length - 1].seq + 1n;
    }
    return out;
  };

  const appendEvents = (
    a: string,
    r: string,
    g: string,
    s: string,
    events: { timestamp: number; message: string }[],
  ) => {
    const st = getStream(a, r, g, s)!;
    const now = clock.now();
    for (const e of events) {
      // Embedded metric format lines become CloudWatch metrics, as CloudWatch Logs extracts them.
      if (metrics?.putEmf && e.message.includes('"_aws"')) metrics.putEmf(a, r, e.message, e.timestamp);
      storage.log.append(
        logId(a, r, g),
        s,
        BigInt(st.nextSeq++),
        e.timestamp,
        JSON.stringify([e.timestamp, now, e.message]),
      );
      st.storedBytes += Buffer.byteLength(e.message) + 26;
      if (st.firstTs === undefined || e.timestamp < st.firstTs) st.firstTs = e.timestamp;
      if (st.lastTs === undefined || e.timestamp > st.lastTs) st.lastTs = e.timestamp;
    }
    st.lastIngestion = now;
    storage.kv.put(S, skey(a, r, g, s), JSON.stringify(st));
  };

  const createGroup = (a: string, r: string, g: string, extra: Partial<GroupRecord> = {}) => {
    const rec: GroupRecord = { name: g, createdAt: clock.now(), tags: {}, ...extra };
    storage.kv.put(G, gkey(a, r, g), JSON.stringify(rec));
    return rec;
  };
  const createStream = (a: string, r: string, g: string, s: string) => {
    const rec: StreamRecord = { name: s, createdAt: clock.now(), nextSeq: 1, storedBytes: 0 };
    storage.kv.put(S, skey(a, r, g, s), JSON.stringify(rec));
    return rec;
  };

  const port: LogsPort = {
    append(t, events) {
      if (!events.length) return;
      storage.tx(() => {
        if (!getGroup(t.accountId, t.region, t.group)) createGroup(t.accountId, t.region, t.group);
        if (!getStream(t.accountId, t.region, t.group, t.stream))
          createStream(t.accountId, t.region, t.group, t.stream);
        appendEvents(t.accountId, t.region, t.group, t.stream, events);
      });
    },
  };

  /** `logGroupIdentifier` may be a name or an ARN. */
  const groupName = (input: { logGroupName?: string; logGroupIdentifier?: string }) => {
    if (input.logGroupName && input.logGroupIdentifier)
      throw invalid('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
    const id = input.logGroupName ?? input.logGroupIdentifier;
    if (!id) throw invalid('Should provide either logGroupName or logGroupIdentifier.');
    const m = /^arn:aws[a-z-]*:logs:[^:]+:\d{12}:log-group:(.+?)(:\*)?$/.exec(id);
    return m ? m[1] : id;
  };

  const page = <T>(items: T[], token: string | undefined, limit: number) => {
    const start = token ? Number(Buffer.from(token, 'base64').toString().split(':')[1]) || 0 : 0;
    const slice = items.slice(start, start + limit);
    return {
      slice,
      next: start + limit < items.length ? Buffer.from(`p:${start + limit}`).toString('base64') : undefined,
    };
  };

  const operations = {
    CreateLogGroup(
      input: { logGroupName: string; kmsKeyId?: string; tags?: Record<string, string>; logGroupClass?: string },
      ctx: RequestContext,
    ) {
      if (input.logGroupClass && input.logGroupClass !== 'STANDARD')
        throw invalid(`Log group class ${input.logGroupClass} is not supported by Eddy yet.`);
      storage.tx(() => {
        if (getGroup(ctx.accountId, ctx.region, input.logGroupName))
          throw exists('The specified log group already exists');
        createGroup(ctx.accountId, ctx.region, input.logGroupName, {
          kmsKeyId: input.kmsKeyId,
          tags: input.tags ?? {},
        });
      });
      return {};
    },
    DeleteLogGroup(input: { logGroupName: string }, ctx: RequestContext) {
      storage.tx(() => {
        requireGroup(ctx.accountId, ctx.region, input.logGroupName);
        for (const s of streamsOf(ctx.accountId, ctx.region, input.logGroupName))
          storage.kv.delete(S, skey(ctx.accountId, ctx.region, input.logGroupName, s.name));
        storage.kv.delete(G, gkey(ctx.accountId, ctx.region, input.logGroupName));
        storage.log.dropStream(logId(ctx.accountId, ctx.region, input.logGroupName));
      });
      return {};
    },
    DescribeLogGroups(
      input: {
        logGroupNamePrefix?: string;
        logGroupNamePattern?: string;
        nextToken?: string;
        limit?: number;
        accountIdentifiers?: string[];
      },
      ctx: RequestContext,
    ) {
      if (input.logGroupNamePrefix && input.logGroupNamePattern)
        throw invalid('LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.');
      const all = groupsOf(ctx.accountId, ctx.region).filter(
        (g) =>
          (!input.logGroupNamePrefix || g.name.startsWith(input.logGroupNamePrefix)) &&
          (!input.logGroupNamePattern || g.name.toLowerCase().includes(input.logGroupNamePattern.toLowerCase())),
      );
      const { slice, next } = page(all, input.nextToken, input.limit ?? 50);
      return {
        logGroups: slice.map((g) => ({
          logGroupName: g.name,
          creationTime: g.createdAt,
          retentionInDays: g.retentionInDays,
          metricFilterCount: 0,
          arn: `${groupArn(ctx.accountId, ctx.region, g.name)}:*`,
          logGroupArn: groupArn(ctx.accountId, ctx.region, g.name),
          storedBytes: streamsOf(ctx.accountId, ctx.region, g.name).reduce((n, s) => n + s.storedBytes, 0),
          kmsKeyId: g.kmsKeyId,
          logGroupClass: 'STANDARD',
        })),
        nextToken: next,
      };
    },
    CreateLogStream(input: { logGroupName: string; logStreamName: string }, ctx: RequestContext) {
      storage.tx(() => {
        requireGroup(ctx.accountId, ctx.region, input.logGroupName);
        if (getStream(ctx.accountId, ctx.region, input.logGroupName, input.logStreamName))
          throw exists('The specified log stream already exists');
        createStream(ctx.accountId, ctx.region, input.logGroupName, input.logStreamName);
      });
      return {};
    },
    DeleteLogStream(input: { logGroupName: string; logStreamName: string }, ctx: RequestContext) {
      storage.tx(() => {
        requireGroup(ctx.accountId, ctx.region, input.logGroupName);
        if (!storage.kv.delete(S, skey(ctx.accountId, ctx.region, input.logGroupName, input.logStreamName)))
          throw notFound('The specified log stream does not exist.');
        storage.log.trim(
          logId(ctx.accountId, ctx.region, input.logGroupName),
          input.logStreamName,
          Number.MAX_SAFE_INTEGER,
        );
      });
      return {};
    },
    DescribeLogStreams(
      input: {
        logGroupName?: string;
        logGroupIdentifier?: string;
        logStreamNamePrefix?: string;
        orderBy?: string;
        descending?: boolean;
        nextToken?: string;
        limit?: number;
      },
      ctx: RequestContext,
    ) {
      const g = groupName(input);
      requireGroup(ctx.accountId, ctx.region, g);
      if (input.orderBy === 'LastEventTime' && input.logStreamNamePrefix)
        throw invalid('Cannot order by LastEventTime with a logStreamNamePrefix.');
      let all = streamsOf(ctx.accountId, ctx.region, g).filter(
        (s) => !input.logStreamNamePrefix || s.name.startsWith(input.logStreamNamePrefix),
      );
      if (input.orderBy === 'LastEventTime') all.sort((x, y) => (x.lastTs ?? 0) - (y.lastTs ?? 0));
      if (input.descending) all = all.reverse();
      const { slice, next } = page(all, input.nextToken, input.limit ?? 50);
      return {
        logStreams: slice.map((s) => ({
          logStreamName: s.name,
          creationTime: s.createdAt,
          firstEventTimestamp: s.firstTs,
          lastEventTimestamp: s.lastTs,
          lastIngestionTime: s.lastIngestion,
          uploadSequenceToken: String(s.nextSeq).padStart(56, '4'),
          arn: `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${g}:log-stream:${s.name}`,
          storedBytes: 0,
        })),
        nextToken: next,
      };
    },
    PutLogEvents(
      input: {
        logGroupName: string;
        logStreamName: string;
        logEvents: { timestamp: number; message: string }[];
        sequenceToken?: string;
      },
      ctx: RequestContext,
    ) {
      const events = input.logEvents;
      let bytes = 0;
      for (let i = 0; i < events.length; i++) {
        if (i > 0 && events[i].timestamp < events[i - 1].timestamp)
          throw invalid('Log events in a single PutLogEvents request must be in chronological order.');
        bytes += Buffer.byteLength(events[i].message) + 26;
      }
      if (bytes > 1_048_576) throw invalid('Upload too large: 1048576 bytes exceeds the maximum allowed');
      if (events.length && events[events.length - 1].timestamp - events[0].timestamp > DAY)
        throw invalid('The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
      const now = clock.now();
      let tooNewStart: number | undefined;
      let tooOldEnd: number | undefined;
      const accepted: typeof events = [];
      events.forEach((e, i) => {
        if (e.timestamp > now + 2 * 3600_000) tooNewStart ??= i;
        else if (e.timestamp < now - 14 * DAY) tooOldEnd = i + 1;
        else accepted.push(e);
      });
      let token = '';
      storage.tx(() => {
        requireGroup(ctx.accountId, ctx.region, input.logGroupName);
        if (!getStream(ctx.accountId, ctx.region, input.logGroupName, input.logStreamName))
          throw notFound('The specified log stream does not exist.');
        appendEvents(ctx.accountId, ctx.region, input.logGroupName, input.logStreamName, accepted);
        token = String(getStream(ctx.accountId, ctx.region, input.logGroupName, input.logStreamName)!.nextSeq).padStart(
          56,
          '4',
        );
      });
      const rejected =
        tooNewStart !== undefined || tooOldEnd !== undefined
          ? { tooNewLogEventStartIndex: tooNewStart, tooOldLogEventEndIndex: tooOldEnd }
          : undefined;
      return { nextSequenceToken: token, rejectedLogEventsInfo: rejected };
    },
    GetLogEvents(
      input: {
        logGroupName?: string;
        logGroupIdentifier?: string;
        logStreamName: string;
        startTime?: number;
        endTime?: number;
        nextToken?: string;
        limit?: number;
        startFromHead?: boolean;
        unmask?: boolean;
      },
      ctx: RequestContext,
    ) {
      const g = groupName(input);
      const grp = requireGroup(ctx.accountId, ctx.region, g);
      if (!getStream(ctx.accountId, ctx.region, g, input.logStreamName))
        throw notFound('The specified log stream does not exist.');
      const all = readStream(ctx.accountId, ctx.region, grp, input.logStreamName).filter(
        (e) =>
          (input.startTime === undefined || e.timestamp >= input.startTime) &&
          (input.endTime === undefined || e.timestamp < input.endTime),
      );
      const limit = input.limit ?? 10000;
      let start: number;
      let end: number;
      const tok = input.nextToken ? /^([fb])\/(\d+)\/s$/.exec(input.nextToken) : undefined;
      if (input.nextToken && !tok) throw invalid('The specified nextToken is invalid.');
      if (tok?.[1] === 'f') {
        start = Math.min(Number(tok[2]), all.length);
        end = Math.min(all.length, start + limit);
      } else if (tok?.[1] === 'b') {
        end = Math.min(Number(tok[2]), all.length);
        start = Math.max(0, end - limit);
      } else if (input.startFromHead) {
        start = 0;
        end = Math.min(all.length, limit);
      } else {
        end = all.length;
        start = Math.max(0, end - limit);
      }
      // Stay within the 1 MB response limit.
      let size = 0;
      for (let i = start; i < end; i++) {
        size += Buffer.byteLength(all[i].message) + 26;
        if (size > 1_048_576) {
          end = i;
          break;
        }
      }
      return {
        events: all
          .slice(start, end)
          .map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })),
        nextForwardToken: `f/${String(end).padStart(56, '0')}/s`,
        nextBackwardToken: `b/${String(start).padStart(56, '0')}/s`,
      };
    },
    FilterLogEvents(
      input: {
        logGroupName?: string;
        logGroupIdentifier?: string;
        logStreamNames?: string[];
        logStreamNamePrefix?: string;
        startTime?: number;
        endTime?: number;
        filterPattern?: string;
        nextToken?: string;
        limit?: number;
        interleaved?: boolean;
        unmask?: boolean;
      },
      ctx: RequestContext,
    ) {
      const g = groupName(input);
      const grp = requireGroup(ctx.accountId, ctx.region, g);
      if (input.logStreamNames && input.logStreamNamePrefix)
        throw invalid('logStreamNames and logStreamNamePrefix are mutually exclusive parameters.');
      let match: (m: string) => boolean;
      try {
        match = compileFilterPattern(input.filterPattern);
      } catch (e) {
        throw invalid(e instanceof FilterPatternError ? e.message : 'Invalid filter pattern');
      }
      const streams = streamsOf(ctx.accountId, ctx.region, g).filter(
        (s) =>
          (!input.logStreamNames || input.logStreamNames.includes(s.name)) &&
          (!input.logStreamNamePrefix || s.name.startsWith(input.logStreamNamePrefix)),
      );
      const found: {
        logStreamName: string;
        timestamp: number;
        message: string;
        ingestionTime: number;
        eventId: string;
      }[] = [];
      streams.forEach((s, si) => {
        for (const e of readStream(ctx.accountId, ctx.region, grp, s.name)) {
          if (input.startTime !== undefined && e.timestamp < input.startTime) continue;
          if (input.endTime !== undefined && e.timestamp > input.endTime) continue;
          if (!match(e.message)) continue;
          found.push({
            logStreamName: s.name,
            timestamp: e.timestamp,
            message: e.message,
            ingestionTime: e.ingestionTime,
            eventId: `${String(e.timestamp).padStart(20, '0')}${String(si).padStart(8, '0')}${String(e.seq).padStart(28, '0')}`,
          });
        }
      });
      found.sort((x, y) => x.timestamp - y.timestamp || (x.eventId < y.eventId ? -1 : 1));
      const { slice, next } = page(found, input.nextToken, input.limit ?? 10000);
      return { events: slice, searchedLogStreams: [], nextToken: next };
    },
    PutRetentionPolicy(input: { logGroupName: string; retentionInDays: number }, ctx: RequestContext) {
      if (!RETENTION_DAYS.includes(input.retentionInDays)) {
        throw invalid(
          `1 validation error detected: Value '${input.retentionInDays}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`,
        );
      }
      storage.tx(() => {
        const grp = requireGroup(ctx.accountId, ctx.region, input.logGroupName);
        grp.retentionInDays = input.retentionInDays;
        storage.kv.put(G, gkey(ctx.accountId, ctx.region, grp.name), JSON.stringify(grp));
      });
      return {};
    },
    DeleteRetentionPolicy(input: { logGroupName: string }, ctx: RequestContext) {
      storage.tx(() => {
        const grp = requireGroup(ctx.accountId, ctx.region, input.logGroupName);
        delete grp.retentionInDays;
        storage.kv.put(G, gkey(ctx.accountId, ctx.region, grp.name), JSON.stringify(grp));
      });
      return {};
    },
    ListTagsForResource(input: { resourceArn: string }, ctx: RequestContext) {
      const m = /^arn:aws[a-z-]*:logs:[^:]+:(\d{12}):log-group:(.+?)(:\*)?$/.exec(input.resourceArn);
      if (!m) throw invalid(`Invalid resource arn: ${input.resourceArn}`);
      return { tags: requireGroup(ctx.accountId, ctx.region, m[2]).tags };
    },
    TagResource(input: { resourceArn: string; tags: Record<string, string> }, ctx: RequestContext) {
      const m = /^arn:aws[a-z-]*:logs:[^:]+:(\d{12}):log-group:(.+?)(:\*)?$/.exec(input.resourceArn);
      if (!m) throw invalid(`Invalid resource arn: ${input.resourceArn}`);
      storage.tx(() => {
        const grp = requireGroup(ctx.accountId, ctx.region, m[2]);
        Object.assign(grp.tags, input.tags);
        storage.kv.put(G, gkey(ctx.accountId, ctx.region, grp.name), JSON.stringify(grp));
      });
      return {};
    },
  };

  /** Retention: every hour of clock time, drop events older than each group's retention. */
  let sweepTimer = clock.after(3600_000, function sweep() {
    const now = clock.now();
    storage.tx(() => {
      for (const [k, v] of storage.kv.range(G)) {
        const grp = JSON.parse(v) as GroupRecord;
        if (!grp.retentionInDays) continue;
        const [a, r] = k.toString().split('\0');
        for (const s of streamsOf(a, r, grp.name))
          storage.log.trim(logId(a, r, grp.name), s.name, now - grp.retentionInDays * DAY);
      }
    });
    sweepTimer = clock.after(3600_000, sweep);
  });

  return {
    service: { model: 'logs', operations: withRefusals(operations) },
    port,
    stop() {
      sweepTimer.cancel();
    },
  };
}

/** Every other CloudWatch Logs operation is refused by name (InvalidOperationException). */
function withRefusals(ops: Record<string, OperationHandler>): Record<string, OperationHandler> {
  const out: Record<string, OperationHandler> = {};
  for (const name of Object.keys(loadModel('logs').operations)) {
    out[name] =
      ops[name] ??
      (() => {
        throw new AwsError(
          'InvalidOperationException',
          `The CloudWatch Logs operation ${name} is not supported by Eddy yet (see docs/services/logs.md).`,
          400,
        );
      });
  }
  return out;
}
