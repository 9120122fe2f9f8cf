/**
 * The control plane of event source mappings: Create/Get/Update/Delete/List with AWS's validation
 * (which parameters each source accepts, ranges beyond the model's, AWS's messages), stored in kv.
 */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../../core/context.ts';
import { AwsError } from '../../../core/errors.ts';
import { compilePattern, formatPatternError, isPatternError } from '../../../core/pattern/index.ts';
import type { Storage } from '../../../storage/types.ts';
import { conflict, invalidParam } from '../errors.ts';
import { type FunctionRepo, functionArn, parseFunctionName } from '../functions.ts';
import type { EsmPorts, MappingRecord, SourceKind } from './types.ts';

export const MAPPINGS = 'lambda.esm';
export const CHECKPOINTS = 'lambda.esm.cp';
export const mappingKey = (uuid: string) => Buffer.from(uuid);

export const esmNotFound = () =>
  new AwsError('ResourceNotFoundException', 'The resource you requested does not exist.', 404);
const inUse = (uuid: string) =>
  new AwsError(
    'ResourceInUseException',
    `Cannot update the event source mapping ${uuid} because it is in use or its state is being changed. Try again later.`,
    400,
  );
const unsupportedByEddy = (what: string) =>
  invalidParam(`${what} is not supported by Eddy yet (see docs/services/event-source-mappings.md).`);

interface MappingInput {
  EventSourceArn?: string;
  FunctionName?: string;
  Enabled?: boolean;
  BatchSize?: number;
  FilterCriteria?: { Filters?: { Pattern?: string }[] };
  MaximumBatchingWindowInSeconds?: number;
  ParallelizationFactor?: number;
  StartingPosition?: string;
  StartingPositionTimestamp?: Date | number;
  DestinationConfig?: { OnSuccess?: { Destination?: string }; OnFailure?: { Destination?: string } };
  MaximumRecordAgeInSeconds?: number;
  BisectBatchOnFunctionError?: boolean;
  MaximumRetryAttempts?: number;
  TumblingWindowInSeconds?: number;
  FunctionResponseTypes?: string[];
  ScalingConfig?: { MaximumConcurrency?: number };
  Tags?: Record<string, string>;
  [k: string]: unknown;
}

/** Parameters for sources Eddy does not have (Kafka, MQ, DocumentDB) and features it lacks. */
const REFUSED: [string, string][] = [
  ['Topics', 'Topics (Kafka sources)'],
  ['Queues', 'Queues (Amazon MQ sources)'],
  ['SourceAccessConfigurations', 'SourceAccessConfigurations (Kafka and MQ sources)'],
  ['SelfManagedEventSource', 'SelfManagedEventSource (self-managed Kafka)'],
  ['AmazonManagedKafkaEventSourceConfig', 'AmazonManagedKafkaEventSourceConfig'],
  ['SelfManagedKafkaEventSourceConfig', 'SelfManagedKafkaEventSourceConfig'],
  ['DocumentDBEventSourceConfig', 'DocumentDBEventSourceConfig'],
  ['KMSKeyArn', 'KMSKeyArn (filter criteria encryption)'],
  ['MetricsConfig', 'MetricsConfig (event source mapping metrics)'],
  ['LoggingConfig', 'LoggingConfig (event source mapping logs)'],
  ['ProvisionedPollerConfig', 'ProvisionedPollerConfig (provisioned mode)'],
];

const STREAM_ONLY: (keyof MappingInput)[] = [
  'ParallelizationFactor',
  'DestinationConfig',
  'MaximumRecordAgeInSeconds',
  'BisectBatchOnFunctionError',
  'MaximumRetryAttempts',
  'TumblingWindowInSeconds',
];

export interface ControlDeps {
  storage: Storage;
  repo: FunctionRepo;
  ports: () => EsmPorts;
  /** The engine acts on state changes after the response (Creating → Enabled ...). */
  changed(uuid: string): void;
}

export function sourceKind(arn: string): SourceKind | undefined {
  if (/^arn:aws[\w-]*:dynamodb:[^:]+:\d{12}:table\/[^/]+\/stream\/.+$/.test(arn)) return 'dynamodb';
  if (/^arn:aws[\w-]*:kinesis:/.test(arn)) return 'kinesis';
  if (/^arn:aws[\w-]*:sqs:[^:]+:\d{12}:.+$/.test(arn)) return 'sqs';
  return undefined;
}

export function esmArn(m: { region: string; accountId: string; uuid: string }): string {
  return `arn:aws:lambda:${m.region}:${m.accountId}:event-source-mapping:${m.uuid}`;
}

/** The mapping as the API shows it (fields per source type, as AWS returns them). */
export function view(m: MappingRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { UUID: m.uuid };
  const stream = m.kind !== 'sqs';
  if (stream) {
    out.StartingPosition = m.startingPosition;
    if (m.startingPositionTimestamp !== undefined)
      out.StartingPositionTimestamp = new Date(m.startingPositionTimestamp);
  }
  out.BatchSize = m.batchSize;
  out.MaximumBatchingWindowInSeconds = m.windowSeconds;
  if (stream) out.ParallelizationFactor = m.parallelization ?? 1;
  out.EventSourceArn = m.eventSourceArn;
  if (m.filters) out.FilterCriteria = { Filters: m.filters.map((Pattern) => ({ Pattern })) };
  out.FunctionArn = m.functionArn;
  out.LastModified = new Date(m.lastModified);
  if (stream) out.LastProcessingResult = m.lastProcessingResult;
  out.State = m.state;
  out.StateTransitionReason = m.stateReason;
  if (stream) {
    out.DestinationConfig = { OnFailure: m.onFailure ? { Destination: m.onFailure } : {} };
    out.MaximumRecordAgeInSeconds = m.maxRecordAge ?? -1;
    out.BisectBatchOnFunctionError = m.bisect ?? false;
    out.MaximumRetryAttempts = m.maxRetry ?? -1;
    out.TumblingWindowInSeconds = m.tumblingSeconds ?? 0;
  }
  out.FunctionResponseTypes = m.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [];
  if (m.kind === 'sqs' && m.maxConcurrency !== undefined) out.ScalingConfig = { MaximumConcurrency: m.maxConcurrency };
  out.EventSourceMappingArn = esmArn(m);
  return out;
}

export function loadMapping(storage: Storage, uuid: string): MappingRecord | undefined {
  const raw = storage.kv.get(MAPPINGS, mappingKey(uuid));
  return raw ? (JSON.parse(raw) as MappingRecord) : undefined;
}

export function saveMapping(storage: Storage, m: MappingRecord): void {
  storage.kv.put(MAPPINGS, mappingKey(m.uuid), JSON.stringify(m));
}

export function allMappings(storage: Storage): MappingRecord[] {
  return [...storage.kv.range(MAPPINGS)].map(([, v]) => JSON.parse(v) as MappingRecord);
}

function checkFilters(input: MappingInput): string[] | undefined {
  const filters = input.FilterCriteria?.Filters;
  if (!filters) return undefined;
  if (filters.length > 5) throw invalidParam('The maximum number of filters allowed per event source mapping is 5.');
  const out: string[] = [];
  for (const f of filters) {
    const p = f.Pattern ?? '';
    try {
      compilePattern(p, 'lambda');
    } catch (e) {
      if (isPatternError(e)) {
        const { code, message } = formatPatternError('lambda', e);
        throw new AwsError(code, message, 400);
      }
      throw e;
    }
    out.push(p);
  }
  return out.length ? out : undefined;
}

function checkResponseTypes(types: string[] | undefined): boolean {
  if (!types) return false;
  for (const t of types)
    if (t !== 'ReportBatchItemFailures')
      throw invalidParam(
        `1 validation error detected: Value '[${types.join(', ')}]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]`,
      );
  return types.length > 0;
}

/** Apply the source's rules to a full configuration (after defaults, for Create; merged, for Update). */
function checkForSource(m: MappingRecord, input: MappingInput, ports: EsmPorts, creating: boolean): void {
  if (m.kind === 'sqs') {
    for (const k of STREAM_ONLY) {
      if (input[k] !== undefined)
        throw invalidParam(`Unsupported ${String(k)} parameter for SQS event source mapping.`);
    }
    if (creating && (input.StartingPosition !== undefined || input.StartingPositionTimestamp !== undefined))
      throw invalidParam('Unsupported starting position for arn type: sqs');
    const fifo = ports.queues?.isFifo(m.eventSourceArn) ?? m.eventSourceArn.endsWith('.fifo');
    if (fifo) {
      if (m.batchSize > 10) throw invalidParam('Batch size for FIFO queues must be between 1 and 10 inclusive.');
      if (m.windowSeconds > 0)
        throw invalidParam('Maximum batching window in seconds is not supported by Amazon SQS FIFO event sources.');
    } else if (m.batchSize > 10 && m.windowSeconds < 1) {
      throw invalidParam(
        'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
      );
    }
    return;
  }
  if (input.ScalingConfig !== undefined)
    throw invalidParam('Unsupported ScalingConfig parameter for DynamoDB and Kinesis event source mapping.');
  if (creating) {
    if (input.StartingPosition === undefined)
      throw invalidParam(
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.",
      );
    if (input.StartingPosition === 'AT_TIMESTAMP' && m.kind === 'dynamodb')
      throw invalidParam(`Unsupported starting position for arn type: ${m.eventSourceArn}`);
    if (input.StartingPositionTimestamp !== undefined && input.StartingPosition !== 'AT_TIMESTAMP')
      throw invalidParam('StartingPositionTimestamp can only be specified with StartingPosition AT_TIMESTAMP.');
  }
  if (input.DestinationConfig?.OnSuccess?.Destination)
    throw invalidParam('Unsupported DestinationConfig parameter for given event source mapping type.');
  if (m.onFailure) {
    const d = m.onFailure;
    if (/^arn:aws[\w-]*:s3:::/.test(d)) {
      if (!ports.objects?.accepts(d)) throw unsupportedByEddy('An S3 on-failure destination (not wired in this build)');
      return void checkTumbling(m);
    }
    if (!/^arn:aws[\w-]*:(sqs|sns):/.test(d))
      throw invalidParam(
        'The provided destination config DestinationConfig(onSuccess=null, onFailure=OnFailure(destination=' +
          `${d})) is invalid.`,
      );
    if (ports.destinations && !ports.destinations.accepts(d))
      throw unsupportedByEddy(`The on-failure destination ${d}`);
  }
  checkTumbling(m);
}

function checkTumbling(m: MappingRecord): void {
  if ((m.tumblingSeconds ?? 0) > 0 && (m.parallelization ?? 1) > 1)
    throw unsupportedByEddy('TumblingWindowInSeconds together with ParallelizationFactor > 1');
}

export function controlOperations(deps: ControlDeps) {
  const { storage, repo } = deps;

  const resolveFunction = (name: string, ctx: RequestContext): string => {
    const ref = parseFunctionName(name, ctx);
    const f = repo.require(ref, ref.qualifier);
    if (ref.qualifier) repo.resolve(f, ref.qualifier);
    return functionArn(f, ref.qualifier);
  };

  /** AWS refuses an SQS mapping whose queue hides messages for less time than the function may run. */
  const checkVisibility = (m: MappingRecord, ctx: RequestContext) => {
    const q = deps.ports().queues;
    if (m.kind !== 'sqs' || !q) return;
    const ref = parseFunctionName(m.functionArn, ctx);
    const f = repo.require(ref, ref.qualifier);
    const timeout = repo.resolve(f, ref.qualifier).timeout;
    const vis = q.visibilityTimeout(m.eventSourceArn);
    if (vis < timeout)
      throw invalidParam(`Queue visibility timeout: ${vis} seconds is less than Function timeout: ${timeout} seconds`);
  };

  const requireMapping = (uuid: string, ctx: RequestContext): MappingRecord => {
    const m = loadMapping(storage, uuid);
    if (!m || m.accountId !== ctx.accountId || m.region !== ctx.region) throw esmNotFound();
    return m;
  };

  return {
    CreateEventSourceMapping(input: MappingInput, ctx: RequestContext) {
      for (const [k, what] of REFUSED) if (input[k] !== undefined) throw unsupportedByEddy(what);
      const arn = input.EventSourceArn;
      if (!arn) throw invalidParam('Unrecognized event source, must be kinesis, dynamodb stream or sqs.');
      const kind = sourceKind(arn);
      if (!kind) throw invalidParam('Unrecognized event source, must be kinesis, dynamodb stream or sqs.');
      const ports = deps.ports();
      if (kind === 'kinesis') throw unsupportedByEddy('Kinesis event sources');
      const fnArn = resolveFunction(input.FunctionName ?? '', ctx);
      const now = ctx.clock.now();
      if (kind === 'dynamodb') {
        const src = ports.streams?.find((s) => s.accepts(arn));
        if (!src) throw unsupportedByEddy('DynamoDB Streams event sources (not wired in this build)');
        if (!src.exists(arn, now)) throw invalidParam(`Stream not found: ${arn}`);
      } else {
        if (!ports.queues) throw unsupportedByEddy('SQS event sources (not wired in this build)');
        if (!ports.queues.exists(arn))
          throw invalidParam(
            'Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl version.',
          );
      }
      for (const other of allMappings(storage)) {
        if (other.eventSourceArn === arn && other.functionArn === fnArn && other.state !== 'Deleting') {
          throw conflict(
            `The event source arn (" ${arn} ") and function (" ${fnArn.split(':')[6]} ") provided mapping already exists. Please update or delete the existing mapping with UUID ${other.uuid}`,
          );
        }
      }
      const stream = kind !== 'sqs';
      const m: MappingRecord = {
        uuid: randomUUID(),
        accountId: ctx.accountId,
        region: ctx.region,
        functionArn: fnArn,
        eventSourceArn: arn,
        kind,
        batchSize: input.BatchSize ?? (stream ? 100 : 10),
        windowSeconds: input.MaximumBatchingWindowInSeconds ?? 0,
        reportBatchItemFailures: checkResponseTypes(input.FunctionResponseTypes),
        filters: checkFilters(input),
        enabled: input.Enabled ?? true,
        state: 'Creating',
        stateReason: 'USER_INITIATED',
        lastProcessingResult: 'No records processed',
        lastModified: now,
      };
      if (stream) {
        m.startingPosition = input.StartingPosition as MappingRecord['startingPosition'];
        if (input.StartingPositionTimestamp !== undefined) {
          const t = input.StartingPositionTimestamp;
          m.startingPositionTimestamp = t instanceof Date ? t.getTime() : Number(t) * 1000;
        }
        m.parallelization = input.ParallelizationFactor ?? 1;
        m.onFailure = input.DestinationConfig?.OnFailure?.Destination || undefined;
        m.maxRecordAge = input.MaximumRecordAgeInSeconds ?? -1;
        m.bisect = input.BisectBatchOnFunctionError ?? false;
        m.maxRetry = input.MaximumRetryAttempts ?? -1;
        m.tumblingSeconds = input.TumblingWindowInSeconds ?? 0;
        if (m.maxRecordAge !== -1 && m.maxRecordAge < 60)
          throw invalidParam(
            `1 validation error detected: Value '${m.maxRecordAge}' at 'maximumRecordAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60`,
          );
      } else if (input.ScalingConfig?.MaximumConcurrency !== undefined) {
        m.maxConcurrency = input.ScalingConfig.MaximumConcurrency;
      }
      if (input.Tags) m.tags = input.Tags;
      checkForSource(m, input, ports, true);
      checkVisibility(m, ctx);
      storage.tx(() => saveMapping(storage, m));
      deps.changed(m.uuid);
      return view(m);
    },

    GetEventSourceMapping(input: { UUID: string }, ctx: RequestContext) {
      return view(requireMapping(input.UUID, ctx));
    },

    UpdateEventSourceMapping(input: MappingInput & { UUID: string }, ctx: RequestContext) {
      for (const [k, what] of REFUSED) if (input[k] !== undefined) throw unsupportedByEddy(what);
      const m = requireMapping(input.UUID, ctx);
      if (
        m.state === 'Creating' ||
        m.state === 'Updating' ||
        m.state === 'Deleting' ||
        m.state === 'Enabling' ||
        m.state === 'Disabling'
      )
        throw inUse(m.uuid);
      const next: MappingRecord = { ...m };
      if (input.FunctionName !== undefined) next.functionArn = resolveFunction(input.FunctionName, ctx);
      if (input.BatchSize !== undefined) next.batchSize = input.BatchSize;
      if (input.MaximumBatchingWindowInSeconds !== undefined) next.windowSeconds = input.MaximumBatchingWindowInSeconds;
      if (input.FilterCriteria !== undefined) next.filters = checkFilters(input);
      if (input.FunctionResponseTypes !== undefined)
        next.reportBatchItemFailures = checkResponseTypes(input.FunctionResponseTypes);
      if (m.kind !== 'sqs') {
        if (input.ParallelizationFactor !== undefined) next.parallelization = input.ParallelizationFactor;
        if (input.DestinationConfig !== undefined)
          next.onFailure = input.DestinationConfig.OnFailure?.Destination || undefined;
        if (input.MaximumRecordAgeInSeconds !== undefined) next.maxRecordAge = input.MaximumRecordAgeInSeconds;
        if (input.BisectBatchOnFunctionError !== undefined) next.bisect = input.BisectBatchOnFunctionError;
        if (input.MaximumRetryAttempts !== undefined) next.maxRetry = input.MaximumRetryAttempts;
        if (input.TumblingWindowInSeconds !== undefined) next.tumblingSeconds = input.TumblingWindowInSeconds;
      } else if (input.ScalingConfig !== undefined) {
        next.maxConcurrency = input.ScalingConfig.MaximumConcurrency;
      }
      checkForSource(next, input, deps.ports(), false);
      if (input.FunctionName !== undefined) checkVisibility(next, ctx);
      const wasEnabled = m.state === 'Enabled';
      if (input.Enabled !== undefined) next.enabled = input.Enabled;
      next.state = next.enabled && !wasEnabled ? 'Enabling' : !next.enabled && wasEnabled ? 'Disabling' : 'Updating';
      next.stateReason = 'USER_INITIATED';
      next.lastModified = ctx.clock.now();
      storage.tx(() => saveMapping(storage, next));
      deps.changed(next.uuid);
      return view(next);
    },

    DeleteEventSourceMapping(input: { UUID: string }, ctx: RequestContext) {
      const m = requireMapping(input.UUID, ctx);
      if (m.state === 'Creating' || m.state === 'Updating' || m.state === 'Enabling' || m.state === 'Disabling')
        throw inUse(m.uuid);
      const next: MappingRecord = { ...m, state: 'Deleting', stateReason: 'USER_INITIATED' };
      storage.tx(() => saveMapping(storage, next));
      deps.changed(next.uuid);
      return view(next);
    },

    ListEventSourceMappings(
      input: { EventSourceArn?: string; FunctionName?: string; Marker?: string; MaxItems?: number },
      ctx: RequestContext,
    ) {
      let fnFilter: { name: string; qualifier?: string } | undefined;
      if (input.FunctionName !== undefined) {
        const ref = parseFunctionName(input.FunctionName, ctx);
        fnFilter = { name: functionArn(ref), qualifier: ref.qualifier };
      }
      const all = allMappings(storage)
        .filter((m) => m.accountId === ctx.accountId && m.region === ctx.region)
        .filter((m) => input.EventSourceArn === undefined || m.eventSourceArn === input.EventSourceArn)
        .filter((m) => {
          if (!fnFilter) return true;
          if (fnFilter.qualifier) return m.functionArn === `${fnFilter.name}:${fnFilter.qualifier}`;
          return m.functionArn === fnFilter.name || m.functionArn.startsWith(`${fnFilter.name}:`);
        })
        .sort((a, b) => a.lastModified - b.lastModified || a.uuid.localeCompare(b.uuid));
      let start = 0;
      if (input.Marker) {
        const i = all.findIndex((m) => m.uuid === input.Marker);
        if (i < 0) throw invalidParam('Invalid Marker.');
        start = i;
      }
      const max = input.MaxItems ?? 100;
      const page = all.slice(start, start + max);
      const out: { EventSourceMappings: unknown[]; NextMarker?: string } = { EventSourceMappings: page.map(view) };
      if (start + max < all.length) out.NextMarker = all[start + max].uuid;
      return out;
    },
  };
}
