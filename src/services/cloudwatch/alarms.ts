import type { Clock, Timer } from '../../core/clock.ts';
import type { RequestContext } from '../../core/context.ts';
import type { Logger } from '../../core/logger.ts';
import type { OperationHandler } from '../../gateway/service.ts';
import type { Storage } from '../../storage/types.ts';
import {
  invalidFormat,
  invalidNextToken,
  invalidParameterCombination,
  invalidParameterValue,
  resourceNotFound,
  unsupported,
  validationError,
} from './errors.ts';
import { type Dimension, type MetricStore, sortDims } from './metrics.ts';
import { checkQueries, type DataQueryInput, metricSeries, runQueries } from './query.ts';
import { PERCENTILE } from './stats.ts';

const ALARMS = 'cloudwatch:alarms';
const HISTORY = 'cloudwatch:history';
const SEP = '\u0000';

/** The delivery path for alarm actions (the transactional outbox accepts SNS topic ARNs as targets). */
export interface AlarmDelivery {
  deliver(target: string, message: { body: string; subject?: string; origin?: Record<string, string> }): void;
}

type State = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface Alarm {
  account: string;
  region: string;
  AlarmName: string;
  AlarmArn: string;
  AlarmDescription?: string;
  AlarmConfigurationUpdatedTimestamp: number;
  ActionsEnabled: boolean;
  OKActions: string[];
  AlarmActions: string[];
  InsufficientDataActions: string[];
  StateValue: State;
  StateReason: string;
  StateReasonData?: string;
  StateUpdatedTimestamp: number;
  StateTransitionedTimestamp: number;
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  ExtendedStatistic?: string;
  Dimensions: Dimension[];
  Period?: number;
  Unit?: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold?: number;
  ComparisonOperator: string;
  TreatMissingData?: string;
  EvaluateLowSampleCountPercentile?: string;
  Metrics?: DataQueryInput[];
  Tags: { Key: string; Value: string }[];
}

const STATIC_OPERATORS: Record<string, [string, (v: number, t: number) => boolean]> = {
  GreaterThanOrEqualToThreshold: ['greater than or equal to', (v, t) => v >= t],
  GreaterThanThreshold: ['greater than', (v, t) => v > t],
  LessThanThreshold: ['less than', (v, t) => v < t],
  LessThanOrEqualToThreshold: ['less than or equal to', (v, t) => v <= t],
};
const TREAT_MISSING = ['missing', 'ignore', 'breaching', 'notBreaching'];

const REGION_NAMES: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-1': 'US West (N. California)',
  'us-west-2': 'US West (Oregon)',
  'ca-central-1': 'Canada (Central)',
  'eu-west-1': 'EU (Ireland)',
  'eu-west-2': 'EU (London)',
  'eu-west-3': 'EU (Paris)',
  'eu-central-1': 'EU (Frankfurt)',
  'eu-north-1': 'EU (Stockholm)',
  'ap-south-1': 'Asia Pacific (Mumbai)',
  'ap-southeast-1': 'Asia Pacific (Singapore)',
  'ap-southeast-2': 'Asia Pacific (Sydney)',
  'ap-northeast-1': 'Asia Pacific (Tokyo)',
  'ap-northeast-2': 'Asia Pacific (Seoul)',
  'sa-east-1': 'South America (Sao Paulo)',
};

/** `2026-11-22T02:00:00.000+0000`, as CloudWatch writes times in alarm JSON. */
const isoAws = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');
/** `22/11/26 02:00:00`, as CloudWatch writes datapoint times in state reasons. */
function reasonTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
/** Java's rendering of a double (5 → 5.0), as the reasons show values. */
const num = (x: number) => (Number.isInteger(x) && Math.abs(x) < 1e7 ? x.toFixed(1) : String(x));
const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

const STAT_UPPER: Record<string, string> = {
  SampleCount: 'SAMPLE_COUNT',
  Average: 'AVERAGE',
  Sum: 'SUM',
  Minimum: 'MINIMUM',
  Maximum: 'MAXIMUM',
};

export function createAlarms(deps: {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  store: MetricStore;
  delivery?: AlarmDelivery;
  /** Write buffered service metrics before reading. */
  flush?: () => void;
}) {
  const { storage, clock, logger, store } = deps;
  const kv = storage.kv;
  const timers = new Map<string, Timer>();
  let seq = 0;

  const keyStr = (account: string, region: string, name: string) => `${account}${SEP}${region}${SEP}${name}`;
  const key = (account: string, region: string, name: string) => Buffer.from(keyStr(account, region, name));
  const get = (account: string, region: string, name: string): Alarm | undefined => {
    const raw = kv.get(ALARMS, key(account, region, name));
    return raw ? (JSON.parse(raw) as Alarm) : undefined;
  };
  const save = (a: Alarm) => kv.put(ALARMS, key(a.account, a.region, a.AlarmName), JSON.stringify(a));
  function* all(account?: string, region?: string): Generator<Alarm> {
    if (account === undefined) {
      for (const [, v] of kv.range(ALARMS)) yield JSON.parse(v) as Alarm;
      return;
    }
    const gte = Buffer.from(`${account}${SEP}${region}${SEP}`);
    for (const [, v] of kv.range(ALARMS, { gte, lt: Buffer.concat([gte, Buffer.from([0xff])]) }))
      yield JSON.parse(v) as Alarm;
  }

  function history(a: Alarm, type: 'ConfigurationUpdate' | 'StateUpdate' | 'Action', summary: string, data: unknown) {
    const t = Buffer.alloc(12);
    t.writeBigUInt64BE(BigInt(clock.now()));
    t.writeUInt32BE(seq++ % 0xffffffff, 8);
    const k = Buffer.concat([Buffer.from(`${a.account}${SEP}${a.region}${SEP}`), t]);
    kv.put(
      HISTORY,
      k,
      JSON.stringify({
        AlarmName: a.AlarmName,
        AlarmType: 'MetricAlarm',
        Timestamp: clock.now(),
        HistoryItemType: type,
        HistorySummary: summary,
        HistoryData: JSON.stringify(data),
      }),
    );
  }

  function render(a: Alarm): Record<string, unknown> {
    const { account: _a, region: _r, Tags: _t, ...rest } = a;
    const out: Record<string, unknown> = {
      ...rest,
      AlarmConfigurationUpdatedTimestamp: new Date(a.AlarmConfigurationUpdatedTimestamp),
      StateUpdatedTimestamp: new Date(a.StateUpdatedTimestamp),
      StateTransitionedTimestamp: new Date(a.StateTransitionedTimestamp),
    };
    if (a.Metrics) {
      delete out.Dimensions;
    }
    return out;
  }

  /** Move an alarm to a state: history, and its actions for that state when actions are enabled. */
  function transition(a: Alarm, state: State, reason: string, reasonData: string | undefined): void {
    const old = a.StateValue;
    const oldReason = a.StateReason;
    const now = clock.now();
    a.StateValue = state;
    a.StateReason = reason;
    a.StateReasonData = reasonData;
    a.StateUpdatedTimestamp = now;
    a.StateTransitionedTimestamp = now;
    save(a);
    history(a, 'StateUpdate', `Alarm updated from ${old} to ${state}`, {
      version: '1.0',
      oldState: { stateValue: old, stateReason: oldReason },
      newState: {
        stateValue: state,
        stateReason: reason,
        ...(reasonData ? { stateReasonData: JSON.parse(reasonData) } : {}),
      },
    });
    const actions = state === 'ALARM' ? a.AlarmActions : state === 'OK' ? a.OKActions : a.InsufficientDataActions;
    if (!a.ActionsEnabled || !actions.length) return;
    const body = JSON.stringify(notification(a, old, now));
    const where = REGION_NAMES[a.region] ?? a.region;
    const subject = `${state}: "${a.AlarmName}" in ${where}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
    for (const target of actions) {
      if (!deps.delivery) {
        logger.error('cloudwatch: no delivery path for alarm actions; action not executed', {
          alarm: a.AlarmName,
          target,
        });
        history(a, 'Action', `Failed to execute action ${target}`, {
          actionState: 'Failed',
          notificationResource: target,
        });
        continue;
      }
      deps.delivery.deliver(target, { body, subject, origin: { alarmArn: a.AlarmArn, type: 'AlarmNotification' } });
      history(a, 'Action', `Successfully executed action ${target}`, {
        actionState: 'Succeeded',
        stateUpdateTimestamp: now,
        notificationResource: target,
        publishedMessage: body,
      });
    }
  }

  function notification(a: Alarm, old: State, now: number): Record<string, unknown> {
    const trigger: Record<string, unknown> = a.Metrics
      ? {
          Period: a.Period ?? 60,
          EvaluationPeriods: a.EvaluationPeriods,
          ComparisonOperator: a.ComparisonOperator,
          Threshold: a.Threshold,
          TreatMissingData: a.TreatMissingData ?? '',
          EvaluateLowSampleCountPercentile: a.EvaluateLowSampleCountPercentile ?? '',
          Metrics: a.Metrics,
        }
      : {
          MetricName: a.MetricName,
          Namespace: a.Namespace,
          StatisticType: a.ExtendedStatistic ? 'ExtendedStatistic' : 'Statistic',
          ...(a.ExtendedStatistic
            ? { ExtendedStatistic: a.ExtendedStatistic }
            : { Statistic: STAT_UPPER[a.Statistic!] ?? a.Statistic }),
          Unit: a.Unit ?? null,
          Dimensions: a.Dimensions.map((d) => ({ value: d.Value, name: d.Name })),
          Period: a.Period,
          EvaluationPeriods: a.EvaluationPeriods,
          ...(a.DatapointsToAlarm !== undefined ? { DatapointsToAlarm: a.DatapointsToAlarm } : {}),
          ComparisonOperator: a.ComparisonOperator,
          Threshold: a.Threshold,
          TreatMissingData: a.TreatMissingData ?? '',
          EvaluateLowSampleCountPercentile: a.EvaluateLowSampleCountPercentile ?? '',
        };
    return {
      AlarmName: a.AlarmName,
      AlarmDescription: a.AlarmDescription ?? null,
      AWSAccountId: a.account,
      AlarmConfigurationUpdatedTimestamp: isoAws(a.AlarmConfigurationUpdatedTimestamp),
      NewStateValue: a.StateValue,
      NewStateReason: a.StateReason,
      StateChangeTime: isoAws(now),
      Region: REGION_NAMES[a.region] ?? a.region,
      AlarmArn: a.AlarmArn,
      OldStateValue: old,
      OKActions: a.OKActions,
      AlarmActions: a.AlarmActions,
      InsufficientDataActions: a.InsufficientDataActions,
      Trigger: trigger,
    };
  }

  /** The alarm's period in seconds (metric-math alarms: the period of the query that returns data). */
  function periodOf(a: Alarm): number {
    if (!a.Metrics) return a.Period!;
    const q = a.Metrics.find((m) => m.ReturnData !== false) ?? a.Metrics[0];
    return q.MetricStat?.Period ?? q.Period ?? Math.min(...a.Metrics.map((m) => m.MetricStat?.Period ?? 60));
  }

  /** Evaluate one alarm at `now` over its last EvaluationPeriods periods. */
  function evaluate(a: Alarm, now: number): void {
    deps.flush?.();
    const periodS = periodOf(a);
    const P = periodS * 1000;
    const N = a.EvaluationPeriods;
    const M = a.DatapointsToAlarm ?? N;
    const step = Math.min(P, 60_000);
    const end = Math.floor(now / step) * step;
    const start = end - N * P;
    let series: Map<number, number>;
    let counts: Map<number, number> | undefined;
    if (a.Metrics) {
      const results = runQueries(store, a.account, a.region, a.Metrics, start, end);
      const r = results.find((x) => x.ReturnData) ?? results[0];
      series = r.series;
      counts = r.sampleCounts;
    } else {
      const r = metricSeries(
        store,
        a.account,
        a.region,
        { Namespace: a.Namespace!, MetricName: a.MetricName!, Dimensions: a.Dimensions },
        a.ExtendedStatistic ?? a.Statistic!,
        start,
        end,
        periodS,
        a.Unit,
      );
      series = r.series;
      counts = r.counts;
    }
    const [words, breaches] = STATIC_OPERATORS[a.ComparisonOperator];
    const threshold = a.Threshold ?? 0;
    // Newest first, as CloudWatch lists evaluated datapoints.
    const points: { t: number; v?: number }[] = [];
    for (let k = N - 1; k >= 0; k--) {
      const t = start + k * P;
      points.push({ t, v: series.get(t) });
    }
    const present = points.filter((p) => p.v !== undefined) as { t: number; v: number }[];
    if (
      a.ExtendedStatistic &&
      a.EvaluateLowSampleCountPercentile === 'ignore' &&
      present.some((p) => (counts?.get(p.t) ?? 0) < 10 / (1 - Number(a.ExtendedStatistic!.slice(1)) / 100))
    )
      return; // too few samples for a significant percentile: keep the state
    const treat = a.TreatMissingData ?? 'missing';
    const missing = N - present.length;
    const breaching = present.filter((p) => breaches(p.v, threshold));
    let breachCount = breaching.length;
    if (treat === 'breaching') breachCount += missing;
    const evaluated = treat === 'breaching' || treat === 'notBreaching' ? N : present.length;
    const reasonData: Record<string, unknown> = {
      version: '1.0',
      queryDate: isoAws(now),
      startDate: isoAws(start),
      ...(a.Metrics
        ? {}
        : a.ExtendedStatistic
          ? { extendedStatistic: a.ExtendedStatistic }
          : { statistic: a.Statistic }),
      ...(a.Unit ? { unit: a.Unit } : {}),
      period: periodS,
      recentDatapoints: [...present].reverse().map((p) => p.v),
      threshold,
      evaluatedDatapoints: points.map((p) =>
        p.v === undefined
          ? { timestamp: isoAws(p.t) }
          : {
              timestamp: isoAws(p.t),
              ...(counts?.has(p.t) ? { sampleCount: counts.get(p.t) } : {}),
              value: p.v,
            },
      ),
    };
    let state: State;
    let reason: string;
    const treatedAs = treat === 'breaching' ? 'Breaching' : treat === 'notBreaching' ? 'NonBreaching' : 'Missing';
    const list = (ps: { t: number; v: number }[]) =>
      `[${ps.map((p) => `${num(p.v)} (${reasonTime(p.t)})`).join(', ')}]`;
    if (evaluated === 0) {
      if (treat === 'ignore') return;
      state = 'INSUFFICIENT_DATA';
      reason = `Insufficient Data: ${N} ${plural(N, 'datapoint was', 'datapoints were')} unknown.`;
    } else if (!present.length) {
      state = breachCount >= M ? 'ALARM' : 'OK';
      reason = `Threshold Crossed: no datapoints were received for ${N} ${plural(N, 'period', 'periods')} and ${missing} missing ${plural(missing, 'datapoint was', 'datapoints were')} treated as [${treatedAs}].`;
    } else if (breachCount >= M) {
      state = 'ALARM';
      const shown = breaching.length ? breaching : present;
      reason =
        N === 1
          ? `Threshold Crossed: 1 datapoint ${list(shown)} was ${words} the threshold (${num(threshold)}).`
          : `Threshold Crossed: ${breachCount} out of the last ${N} datapoints ${list(shown)} ${plural(breachCount, 'was', 'were')} ${words} the threshold (${num(threshold)}) (minimum ${M} ${plural(M, 'datapoint', 'datapoints')} for ${a.StateValue === 'ALARM' ? 'ALARM' : 'OK'} -> ALARM transition).`;
    } else {
      state = 'OK';
      reason =
        N === 1
          ? `Threshold Crossed: 1 datapoint ${list(present)} was not ${words} the threshold (${num(threshold)}).`
          : `Threshold Crossed: ${present.length - breaching.length} out of the last ${N} datapoints ${list(present.filter((p) => !breaches(p.v, threshold)))} ${plural(present.length - breaching.length, 'was', 'were')} not ${words} the threshold (${num(threshold)}) (minimum ${M} ${plural(M, 'datapoint', 'datapoints')} for ALARM -> OK transition).`;
    }
    if (state === a.StateValue) return;
    transition(a, state, reason, JSON.stringify(reasonData));
  }

  /** Arm the alarm's next evaluation at its next period (or minute) boundary on the clock. */
  function schedule(a: Alarm): void {
    const ks = keyStr(a.account, a.region, a.AlarmName);
    timers.get(ks)?.cancel();
    const step = Math.min(periodOf(a) * 1000, 60_000);
    const now = clock.now();
    const next = Math.floor(now / step) * step + step;
    timers.set(
      ks,
      clock.at(next, () => {
        timers.delete(ks);
        const cur = get(a.account, a.region, a.AlarmName);
        if (!cur) return;
        try {
          storage.tx(() => evaluate(cur, clock.now()));
        } catch (e) {
          logger.error('cloudwatch: alarm evaluation failed', {
            alarm: a.AlarmName,
            error: e instanceof Error ? (e.stack ?? e.message) : String(e),
          });
        }
        schedule(cur);
      }),
    );
  }
  const unschedule = (a: { account: string; region: string; AlarmName: string }) => {
    const ks = keyStr(a.account, a.region, a.AlarmName);
    timers.get(ks)?.cancel();
    timers.delete(ks);
  };
  const stopAll = () => {
    for (const t of timers.values()) t.cancel();
    timers.clear();
  };
  for (const a of all()) schedule(a);
  storage.onReset(stopAll);

  function checkActions(list: string[] | undefined, param: string): string[] {
    for (const arn of list ?? []) {
      if (/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/.test(arn)) continue;
      if (/^arn:aws/.test(arn)) throw unsupported(`The ${param} action ${arn} (Eddy executes SNS topic actions only)`);
      throw validationError(`Invalid arn syntax: ${arn}`);
    }
    return [...(list ?? [])];
  }

  const nextToken = (o: number) => Buffer.from(JSON.stringify({ o })).toString('base64');
  const offsetOf = (t: string | undefined) => {
    if (t === undefined) return 0;
    try {
      const o = JSON.parse(Buffer.from(t, 'base64').toString()).o;
      if (typeof o === 'number') return o;
    } catch {}
    throw invalidNextToken();
  };
  const sameDims = (a: Dimension[], b: Dimension[]) => JSON.stringify(sortDims(a)) === JSON.stringify(sortDims(b));

  const operations: Record<string, OperationHandler> = {
    PutMetricAlarm(input: Record<string, any>, ctx: RequestContext) {
      if (input.ThresholdMetricId) throw unsupported('ThresholdMetricId (anomaly detection alarms)');
      if (!STATIC_OPERATORS[input.ComparisonOperator]) {
        if (/Band|Lower|Upper/.test(input.ComparisonOperator ?? ''))
          throw unsupported(`The ComparisonOperator ${input.ComparisonOperator} (anomaly detection)`);
        throw validationError(`Invalid ComparisonOperator: ${input.ComparisonOperator}`);
      }
      if (input.Threshold === undefined || input.Threshold === null)
        throw validationError('Threshold must be specified for alarms with a static threshold.');
      const metrics = input.Metrics as DataQueryInput[] | undefined;
      if (metrics?.length) {
        for (const p of ['MetricName', 'Namespace', 'Statistic', 'ExtendedStatistic', 'Dimensions', 'Period', 'Unit'])
          if (input[p] !== undefined && !(p === 'Dimensions' && !input[p].length))
            throw invalidParameterCombination(
              `The parameters Metrics and ${p} are mutually exclusive and you have specified both.`,
            );
        checkQueries(metrics, ctx.accountId, 'Metrics');
        if (metrics.filter((m) => m.ReturnData !== false).length !== 1)
          throw validationError('Exactly one element of the metrics list should return data.');
      } else {
        if (!input.MetricName || !input.Namespace)
          throw validationError('The parameters MetricName and Namespace are required (or specify Metrics).');
        if (!!input.Statistic === !!input.ExtendedStatistic)
          throw invalidParameterCombination('Exactly one of Statistic and ExtendedStatistic must be specified.');
        if (input.ExtendedStatistic && !PERCENTILE.test(input.ExtendedStatistic))
          throw invalidParameterValue(
            `The value ${input.ExtendedStatistic} for parameter ExtendedStatistic is not supported by Eddy (percentiles p0.0 to p100 are).`,
          );
        if (input.Period === undefined) throw validationError('Period must be specified.');
      }
      const alarm0 = {
        account: ctx.accountId,
        region: ctx.region,
        Metrics: metrics?.length ? metrics : undefined,
        Period: input.Period,
      } as Alarm;
      const periodS = periodOf(alarm0);
      if (!(periodS === 10 || periodS === 30 || (periodS > 0 && periodS % 60 === 0)))
        throw invalidParameterValue('The parameter Period must be 10, 30, or a multiple of 60.');
      const N = input.EvaluationPeriods as number;
      if (periodS * N > (periodS >= 3600 ? 7 * 86400 : 86400))
        throw validationError(
          'The evaluation range of the alarm (Period x EvaluationPeriods) must not exceed one day (seven days for periods of an hour or more).',
        );
      if (input.DatapointsToAlarm !== undefined && input.DatapointsToAlarm > N)
        throw validationError('DatapointsToAlarm must be less than or equal to EvaluationPeriods.');
      if (input.TreatMissingData !== undefined && !TREAT_MISSING.includes(input.TreatMissingData))
        throw validationError(
          `Option ${input.TreatMissingData} is not supported. Supported options for parameter TreatMissingData are missing, ignore, breaching and notBreaching.`,
        );
      if (input.EvaluateLowSampleCountPercentile !== undefined) {
        if (!['evaluate', 'ignore'].includes(input.EvaluateLowSampleCountPercentile))
          throw validationError(
            `Option ${input.EvaluateLowSampleCountPercentile} is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore.`,
          );
      }
      const ok = checkActions(input.OKActions, 'OK');
      const al = checkActions(input.AlarmActions, 'Alarm');
      const ins = checkActions(input.InsufficientDataActions, 'InsufficientData');
      const now = clock.now();
      const prior = get(ctx.accountId, ctx.region, input.AlarmName);
      const a: Alarm = {
        account: ctx.accountId,
        region: ctx.region,
        AlarmName: input.AlarmName,
        AlarmArn: `arn:aws:cloudwatch:${ctx.region}:${ctx.accountId}:alarm:${input.AlarmName}`,
        AlarmDescription: input.AlarmDescription,
        AlarmConfigurationUpdatedTimestamp: now,
        ActionsEnabled: input.ActionsEnabled ?? true,
        OKActions: ok,
        AlarmActions: al,
        InsufficientDataActions: ins,
        // An update keeps the alarm's state; a new alarm starts unchecked.
        StateValue: prior?.StateValue ?? 'INSUFFICIENT_DATA',
        StateReason: prior?.StateReason ?? 'Unchecked: Initial alarm creation',
        StateReasonData: prior?.StateReasonData,
        StateUpdatedTimestamp: prior?.StateUpdatedTimestamp ?? now,
        StateTransitionedTimestamp: prior?.StateTransitionedTimestamp ?? now,
        MetricName: input.MetricName,
        Namespace: input.Namespace,
        Statistic: input.Statistic,
        ExtendedStatistic: input.ExtendedStatistic,
        Dimensions: input.Dimensions ?? [],
        Period: input.Period,
        Unit: input.Unit,
        EvaluationPeriods: N,
        DatapointsToAlarm: input.DatapointsToAlarm,
        Threshold: input.Threshold,
        ComparisonOperator: input.ComparisonOperator,
        TreatMissingData: input.TreatMissingData,
        EvaluateLowSampleCountPercentile: input.EvaluateLowSampleCountPercentile,
        Metrics: alarm0.Metrics,
        Tags: prior?.Tags ?? input.Tags ?? [],
      };
      storage.tx(() => {
        save(a);
        const { account: _x, region: _y, Tags: _z, ...conf } = a;
        history(
          a,
          'ConfigurationUpdate',
          `Alarm "${a.AlarmName}" ${prior ? 'updated' : 'created'}`,
          prior
            ? { version: '1.0', type: 'Update', updatedAlarm: conf }
            : { version: '1.0', type: 'Create', createdAlarm: conf },
        );
      });
      schedule(a);
      return {};
    },

    DescribeAlarms(input: Record<string, any>, ctx: RequestContext) {
      if (input.AlarmNames?.length && input.AlarmNamePrefix)
        throw invalidParameterCombination(
          'The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you have specified both.',
        );
      const types: string[] = input.AlarmTypes ?? ['MetricAlarm'];
      const wantMetric = types.includes('MetricAlarm') && !input.ChildrenOfAlarmName && !input.ParentsOfAlarmName;
      const found = wantMetric
        ? [...all(ctx.accountId, ctx.region)].filter(
            (a) =>
              (!input.AlarmNames?.length || input.AlarmNames.includes(a.AlarmName)) &&
              (!input.AlarmNamePrefix || a.AlarmName.startsWith(input.AlarmNamePrefix)) &&
              (!input.StateValue || a.StateValue === input.StateValue) &&
              (!input.ActionPrefix ||
                [...a.AlarmActions, ...a.OKActions, ...a.InsufficientDataActions].some((x) =>
                  x.startsWith(input.ActionPrefix),
                )),
          )
        : [];
      const max = input.MaxRecords ?? 50;
      const o = offsetOf(input.NextToken);
      const page = found.slice(o, o + max);
      const out: Record<string, unknown> = { MetricAlarms: page.map(render) };
      if (types.includes('CompositeAlarm')) out.CompositeAlarms = [];
      if (o + max < found.length) out.NextToken = nextToken(o + max);
      return out;
    },

    DescribeAlarmsForMetric(input: Record<string, any>, ctx: RequestContext) {
      const found = [...all(ctx.accountId, ctx.region)].filter(
        (a) =>
          !a.Metrics &&
          a.MetricName === input.MetricName &&
          a.Namespace === input.Namespace &&
          (!input.Statistic || a.Statistic === input.Statistic) &&
          (!input.ExtendedStatistic || a.ExtendedStatistic === input.ExtendedStatistic) &&
          (input.Dimensions === undefined || sameDims(a.Dimensions, input.Dimensions)) &&
          (input.Period === undefined || a.Period === input.Period) &&
          (!input.Unit || a.Unit === input.Unit),
      );
      return { MetricAlarms: found.map(render) };
    },

    DescribeAlarmHistory(input: Record<string, any>, ctx: RequestContext) {
      if (input.AlarmContributorId) throw unsupported('AlarmContributorId');
      const types: string[] = input.AlarmTypes ?? ['MetricAlarm', 'CompositeAlarm'];
      const from = toDate(input.StartDate);
      const to = toDate(input.EndDate);
      const gte = Buffer.from(`${ctx.accountId}${SEP}${ctx.region}${SEP}`);
      const rows = [...kv.range(HISTORY, { gte, lt: Buffer.concat([gte, Buffer.from([0xff])]) })]
        .map(
          ([, v]) =>
            JSON.parse(v) as { AlarmName: string; AlarmType: string; Timestamp: number; HistoryItemType: string },
        )
        .filter(
          (h) =>
            (!input.AlarmName || h.AlarmName === input.AlarmName) &&
            types.includes(h.AlarmType) &&
            (!input.HistoryItemType || h.HistoryItemType === input.HistoryItemType) &&
            (from === undefined || h.Timestamp >= from) &&
            (to === undefined || h.Timestamp <= to),
        );
      if ((input.ScanBy ?? 'TimestampDescending') === 'TimestampDescending') rows.reverse();
      const max = input.MaxRecords ?? 100;
      const o = offsetOf(input.NextToken);
      const page = rows.slice(o, o + max).map((h) => ({ ...h, Timestamp: new Date(h.Timestamp) }));
      return { AlarmHistoryItems: page, NextToken: o + max < rows.length ? nextToken(o + max) : undefined };
    },

    SetAlarmState(input: Record<string, any>, ctx: RequestContext) {
      if (input.StateReasonData !== undefined) {
        try {
          JSON.parse(input.StateReasonData);
        } catch {
          throw invalidFormat('StateReasonData must be valid JSON.');
        }
      }
      const a = get(ctx.accountId, ctx.region, input.AlarmName);
      if (!a) throw resourceNotFound(`Alarm ${input.AlarmName} not found`);
      if (a.StateValue === input.StateValue) {
        // Same state: the reason is updated, no transition and no actions.
        a.StateReason = input.StateReason;
        a.StateReasonData = input.StateReasonData;
        a.StateUpdatedTimestamp = clock.now();
        storage.tx(() => save(a));
        return {};
      }
      storage.tx(() => transition(a, input.StateValue, input.StateReason, input.StateReasonData));
      return {};
    },

    DeleteAlarms(input: { AlarmNames: string[] }, ctx: RequestContext) {
      const names = input.AlarmNames ?? [];
      const missing = names.filter((n) => !get(ctx.accountId, ctx.region, n));
      if (missing.length)
        throw resourceNotFound(
          `${missing.length} ${plural(missing.length, 'alarm', 'alarms')} not found: [${missing.join(', ')}]`,
        );
      storage.tx(() => {
        for (const n of names) kv.delete(ALARMS, key(ctx.accountId, ctx.region, n));
      });
      for (const n of names) unschedule({ account: ctx.accountId, region: ctx.region, AlarmName: n });
      return {};
    },

    EnableAlarmActions(input: { AlarmNames: string[] }, ctx: RequestContext) {
      setActions(input.AlarmNames, ctx, true);
      return {};
    },
    DisableAlarmActions(input: { AlarmNames: string[] }, ctx: RequestContext) {
      setActions(input.AlarmNames, ctx, false);
      return {};
    },

    TagResource(input: { ResourceARN: string; Tags: { Key: string; Value: string }[] }, ctx: RequestContext) {
      const a = alarmByArn(input.ResourceARN, ctx);
      for (const t of input.Tags ?? []) {
        const i = a.Tags.findIndex((x) => x.Key === t.Key);
        if (i >= 0) a.Tags[i] = t;
        else a.Tags.push(t);
      }
      storage.tx(() => save(a));
      return {};
    },
    UntagResource(input: { ResourceARN: string; TagKeys: string[] }, ctx: RequestContext) {
      const a = alarmByArn(input.ResourceARN, ctx);
      a.Tags = a.Tags.filter((t) => !(input.TagKeys ?? []).includes(t.Key));
      storage.tx(() => save(a));
      return {};
    },
    ListTagsForResource(input: { ResourceARN: string }, ctx: RequestContext) {
      return { Tags: alarmByArn(input.ResourceARN, ctx).Tags };
    },
  };

  function alarmByArn(arn: string, ctx: RequestContext): Alarm {
    const m = /^arn:aws[\w-]*:cloudwatch:([^:]+):(\d{12}):alarm:(.+)$/.exec(arn ?? '');
    if (!m) {
      if (/:dashboard\/|:insight-rule\/|:metric-stream\//.test(arn ?? ''))
        throw unsupported('Tags on resources other than alarms');
      throw invalidParameterValue(`The value ${arn} for parameter ResourceARN is invalid.`);
    }
    const a = m[1] === ctx.region && m[2] === ctx.accountId ? get(ctx.accountId, ctx.region, m[3]) : undefined;
    if (!a) throw resourceNotFound(`Alarm ${m[3]} not found`);
    return a;
  }

  function setActions(names: string[] | undefined, ctx: RequestContext, enabled: boolean) {
    storage.tx(() => {
      for (const n of names ?? []) {
        const a = get(ctx.accountId, ctx.region, n);
        if (!a || a.ActionsEnabled === enabled) continue;
        a.ActionsEnabled = enabled;
        save(a);
      }
    });
  }

  return {
    operations,
    /** Evaluate every alarm of an account/region now (tests and inspection). */
    evaluateAll(account: string, region: string) {
      storage.tx(() => {
        for (const a of all(account, region)) evaluate(a, clock.now());
      });
    },
    stop: stopAll,
  };
}

function toDate(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v * 1000;
  const n = Date.parse(String(v));
  return Number.isNaN(n) ? undefined : n;
}
