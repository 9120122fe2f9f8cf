import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../core/context.ts';
import { AwsError } from '../../core/errors.ts';
import type { ObjectsPort } from '../../core/ports.ts';
import type { Storage } from '../../storage/types.ts';
import { type CodeRef, LOCAL_BUCKETS, localCode, storeZip } from './code.ts';
import { conflict, invalidParam, notFound, preconditionFailed, unsupported } from './errors.ts';

/** Runtimes Eddy can run: Node.js in a child process, `provided.*` by executing the package's `bootstrap`. */
export const NODE_RUNTIMES = new Set(['nodejs20.x', 'nodejs22.x', 'nodejs24.x']);
export const PROVIDED_RUNTIMES = new Set(['provided.al2', 'provided.al2023']);
/** Runtimes AWS still accepts that Eddy stores but cannot run yet (Invoke refuses them by name). */
const OTHER_RUNTIMES = new Set([
  'python3.10',
  'python3.11',
  'python3.12',
  'python3.13',
  'python3.14',
  'java11',
  'java17',
  'java21',
  'java25',
  'java8.al2',
  'dotnet8',
  'dotnet10',
  'ruby3.2',
  'ruby3.3',
  'ruby3.4',
]);
/** Runtimes AWS has deprecated and blocks for creating or updating functions. */
export const DEPRECATED_RUNTIMES = new Set([
  'nodejs',
  'nodejs4.3',
  'nodejs4.3-edge',
  'nodejs6.10',
  'nodejs8.10',
  'nodejs10.x',
  'nodejs12.x',
  'nodejs14.x',
  'nodejs16.x',
  'nodejs18.x',
  'python2.7',
  'python3.6',
  'python3.7',
  'python3.8',
  'python3.9',
  'java8',
  'dotnetcore1.0',
  'dotnetcore2.0',
  'dotnetcore2.1',
  'dotnetcore3.1',
  'dotnet6',
  'dotnet7',
  'go1.x',
  'ruby2.5',
  'ruby2.7',
  'provided',
]);

/** One version of a function's configuration ($LATEST or a published number). */
export interface FunctionVersion {
  version: string;
  runtime?: string;
  role: string;
  handler?: string;
  description: string;
  timeout: number;
  memorySize: number;
  environment?: Record<string, string>;
  code: CodeRef;
  lastModified: number;
  revisionId: string;
  architectures: string[];
  ephemeralStorage: number;
  logFormat: string;
  applicationLogLevel?: string;
  systemLogLevel?: string;
  logGroup?: string;
  tracingMode: string;
  deadLetterTarget?: string;
  kmsKeyArn?: string;
  vpcConfig?: { SubnetIds?: string[]; SecurityGroupIds?: string[] };
  /** For published versions: the $LATEST revision it was published from. */
  sourceRevision?: string;
}

export interface AliasRecord {
  name: string;
  functionVersion: string;
  description: string;
  revisionId: string;
  routingConfig?: { AdditionalVersionWeights?: Record<string, number> };
}

export interface FunctionRecord {
  accountId: string;
  region: string;
  name: string;
  latest: FunctionVersion;
  versions: Record<string, FunctionVersion>;
  nextVersion: number;
  aliases: Record<string, AliasRecord>;
  tags: Record<string, string>;
  reservedConcurrency?: number;
}

const NS = 'lambda.fn';
const key = (accountId: string, region: string, name: string) => Buffer.from(`${accountId}\0${region}\0${name}`);

export const functionArn = (f: { accountId: string; region: string; name: string }, qualifier?: string) =>
  `arn:aws:lambda:${f.region}:${f.accountId}:function:${f.name}${qualifier ? `:${qualifier}` : ''}`;

/** A FunctionName as Lambda accepts it: name, partial ARN or ARN, optionally with `:qualifier`. */
export function parseFunctionName(
  input: string,
  ctx: { accountId: string; region: string },
): { name: string; qualifier?: string; accountId: string; region: string } {
  let m = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_.]+)(?::([a-zA-Z0-9-_$]+))?$/.exec(
    input,
  );
  if (m) return { region: m[1], accountId: m[2], name: m[3], qualifier: m[4] };
  m = /^(\d{12}):function:([a-zA-Z0-9-_.]+)(?::([a-zA-Z0-9-_$]+))?$/.exec(input);
  if (m) return { region: ctx.region, accountId: m[1], name: m[2], qualifier: m[3] };
  m = /^([a-zA-Z0-9-_.]+)(?::([a-zA-Z0-9-_$]+))?$/.exec(input);
  if (m) return { region: ctx.region, accountId: ctx.accountId, name: m[1], qualifier: m[2] };
  throw new AwsError(
    'ValidationException',
    `1 validation error detected: Value '${input}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
  );
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export class FunctionRepo {
  constructor(private readonly storage: Storage) {}

  get(accountId: string, region: string, name: string): FunctionRecord | undefined {
    const raw = this.storage.kv.get(NS, key(accountId, region, name));
    return raw ? (JSON.parse(raw) as FunctionRecord) : undefined;
  }
  require(ref: { accountId: string; region: string; name: string }, qualifier?: string): FunctionRecord {
    const f = this.get(ref.accountId, ref.region, ref.name);
    if (!f) throw notFound(functionArn(ref, qualifier));
    return f;
  }
  put(f: FunctionRecord): void {
    this.storage.kv.put(NS, key(f.accountId, f.region, f.name), JSON.stringify(f));
  }
  delete(f: { accountId: string; region: string; name: string }): void {
    this.storage.kv.delete(NS, key(f.accountId, f.region, f.name));
  }
  list(accountId: string, region: string): FunctionRecord[] {
    const prefix = `${accountId}\0${region}\0`;
    const out: FunctionRecord[] = [];
    for (const [k, v] of this.storage.kv.range(NS, {
      gte: Buffer.from(prefix),
      lt: Buffer.from(`${accountId}\0${region}\x01`),
    })) {
      if (k.toString().startsWith(prefix)) out.push(JSON.parse(v) as FunctionRecord);
    }
    return out;
  }

  /** The version a qualifier names ($LATEST, a number, or an alias), with the version string executed. */
  resolve(f: FunctionRecord, qualifier: string | undefined): FunctionVersion {
    if (!qualifier || qualifier === '$LATEST') return f.latest;
    const v = f.versions[qualifier];
    if (v) return v;
    const alias = f.aliases[qualifier];
    if (alias) {
      const target = alias.functionVersion === '$LATEST' ? f.latest : f.versions[alias.functionVersion];
      if (target) return target;
    }
    throw notFound(functionArn(f, qualifier));
  }
}

export function checkRuntime(runtime: string | undefined): void {
  if (runtime === undefined) return;
  if (DEPRECATED_RUNTIMES.has(runtime)) {
    throw invalidParam(
      `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.`,
    );
  }
  if (!NODE_RUNTIMES.has(runtime) && !PROVIDED_RUNTIMES.has(runtime) && !OTHER_RUNTIMES.has(runtime)) {
    throw invalidParam(
      `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set`,
    );
  }
}

/** Parameters Eddy refuses by name instead of silently ignoring. */
export function refuseUnsupported(input: Record<string, any>): void {
  if (input.Layers?.length) throw unsupported('Layers');
  if (input.FileSystemConfigs?.length) throw unsupported('FileSystemConfigs (EFS)');
  if (input.ImageConfig) throw unsupported('ImageConfig (container images)');
  if (input.PackageType === 'Image') throw unsupported('PackageType Image (container images)');
  if (input.CodeSigningConfigArn) throw unsupported('CodeSigningConfigArn');
  if (input.CapacityProviderConfig) throw unsupported('CapacityProviderConfig');
  if (input.DurableConfig) throw unsupported('DurableConfig (durable functions)');
  if (input.TenancyConfig) throw unsupported('TenancyConfig');
  if (input.PublishTo) throw unsupported('PublishTo');
  if (input.SnapStart?.ApplyOn && input.SnapStart.ApplyOn !== 'None') throw unsupported('SnapStart');
  if (input.Architectures?.length > 1) throw invalidParam('Only one architecture is supported per function.');
}

/** Log levels apply to JSON logs only (AWS refuses them with Text); JSON defaults to INFO. */
function logLevels(c: { LogFormat?: string; ApplicationLogLevel?: string; SystemLogLevel?: string } | undefined) {
  if (!c) return {};
  if (c.LogFormat !== 'JSON') {
    if (c.ApplicationLogLevel || c.SystemLogLevel) {
      throw invalidParam(
        'Log level parameters ApplicationLogLevel and SystemLogLevel can only be set when LogFormat is JSON.',
      );
    }
    return { applicationLogLevel: undefined, systemLogLevel: undefined };
  }
  return { applicationLogLevel: c.ApplicationLogLevel ?? 'INFO', systemLogLevel: c.SystemLogLevel ?? 'INFO' };
}

function checkEnvironment(env: Record<string, string> | undefined): void {
  if (!env) return;
  const size = JSON.stringify(env).length;
  if (size > 4096)
    throw invalidParam(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${JSON.stringify(env)}`,
    );
  for (const k of Object.keys(env)) {
    if (RESERVED_ENV.has(k)) {
      throw invalidParam(
        `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${k}`,
      );
    }
  }
}

const RESERVED_ENV = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);

/** Where CreateFunction/UpdateFunctionCode read `S3Bucket`/`S3Key` from (wired once S3 exists). */
export interface CodeObjects {
  objects?: ObjectsPort;
}

async function codeFrom(
  storage: Storage,
  code: Record<string, any>,
  operation: string,
  src: CodeObjects,
  ctx: { accountId: string; region: string },
): Promise<CodeRef> {
  if (code.ZipFile) return storeZip(storage, code.ZipFile as Buffer, operation);
  if (code.ImageUri) throw unsupported('ImageUri (container images)');
  if (code.S3Bucket && LOCAL_BUCKETS.has(code.S3Bucket)) {
    if (!code.S3Key) throw invalidParam('S3Key is required with S3Bucket.');
    return localCode(code.S3Key);
  }
  if (code.S3Bucket) {
    if (!code.S3Key) throw invalidParam('S3Key is required with S3Bucket.');
    if (!src.objects) {
      throw invalidParam(
        'Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist',
      );
    }
    let zip: Buffer;
    try {
      zip = await src.objects.getObject({
        accountId: ctx.accountId,
        region: ctx.region,
        bucket: code.S3Bucket,
        key: code.S3Key,
        versionId: code.S3ObjectVersion,
      });
    } catch (e) {
      if (e instanceof AwsError)
        throw invalidParam(`Error occurred while GetObject. S3 Error Code: ${e.code}. S3 Error Message: ${e.message}`);
      throw e;
    }
    return storeZip(storage, zip, operation);
  }
  throw invalidParam('Please provide a source for function code.');
}

export interface ControlPlaneHooks {
  /** A function's code or configuration changed or it was deleted: retire its warm environments. */
  retire(accountId: string, region: string, name: string): void;
}

/** The control-plane operations: create, read, update, delete, versions, aliases, tags, concurrency. */
export function controlPlane(storage: Storage, repo: FunctionRepo, hooks: ControlPlaneHooks, src: CodeObjects = {}) {
  const configuration = (
    f: FunctionRecord,
    v: FunctionVersion,
    opts: { pending?: boolean; updating?: boolean } = {},
  ) => {
    const latest = v.version === '$LATEST';
    const out: Record<string, unknown> = {
      FunctionName: f.name,
      FunctionArn: functionArn(f, latest ? undefined : v.version),
      Runtime: v.runtime,
      Role: v.role,
      Handler: v.handler,
      CodeSize: v.code.size,
      Description: v.description,
      Timeout: v.timeout,
      MemorySize: v.memorySize,
      LastModified: isoTime(v.lastModified),
      CodeSha256: v.code.sha256,
      Version: v.version,
      Environment: v.environment ? { Variables: v.environment } : undefined,
      KMSKeyArn: v.kmsKeyArn,
      VpcConfig: v.vpcConfig
        ? { SubnetIds: v.vpcConfig.SubnetIds ?? [], SecurityGroupIds: v.vpcConfig.SecurityGroupIds ?? [], VpcId: '' }
        : undefined,
      DeadLetterConfig: v.deadLetterTarget ? { TargetArn: v.deadLetterTarget } : undefined,
      TracingConfig: { Mode: v.tracingMode },
      RevisionId: v.revisionId,
      State: opts.pending ? 'Pending' : 'Active',
      StateReason: opts.pending ? 'The function is being created.' : undefined,
      StateReasonCode: opts.pending ? 'Creating' : undefined,
      LastUpdateStatus: opts.updating ? 'InProgress' : 'Successful',
      LastUpdateStatusReason: opts.updating ? 'The function is being created.' : undefined,
      LastUpdateStatusReasonCode: opts.updating ? 'Creating' : undefined,
      PackageType: 'Zip',
      Architectures: v.architectures,
      EphemeralStorage: { Size: v.ephemeralStorage },
      SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
      LoggingConfig: {
        LogFormat: v.logFormat,
        ApplicationLogLevel: v.applicationLogLevel,
        SystemLogLevel: v.systemLogLevel,
        LogGroup: v.logGroup ?? `/aws/lambda/${f.name}`,
      },
    };
    if (opts.updating && !opts.pending) {
      out.LastUpdateStatusReason = 'The function is being updated.';
      out.LastUpdateStatusReasonCode = undefined;
    }
    return out;
  };

  const checkRevision = (current: string, given: string | undefined) => {
    if (given !== undefined && given !== current) {
      throw preconditionFailed(
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
      );
    }
  };

  const publish = (f: FunctionRecord, now: number, description?: string): FunctionVersion => {
    // An unchanged $LATEST republishes nothing: AWS returns the last version with the same code and config.
    const last = f.versions[String(f.nextVersion - 1)];
    if (last && last.sourceRevision === f.latest.revisionId) return last;
    const v: FunctionVersion = {
      ...f.latest,
      version: String(f.nextVersion),
      lastModified: now,
      revisionId: randomUUID(),
      sourceRevision: f.latest.revisionId,
      description: description ?? f.latest.description,
    };
    f.versions[v.version] = v;
    f.nextVersion++;
    return v;
  };

  const ops = {
    async CreateFunction(input: Record<string, any>, ctx: RequestContext) {
      refuseUnsupported(input);
      const ref = parseFunctionName(input.FunctionName, ctx);
      if (ref.qualifier) throw invalidParam('FunctionName must not include a qualifier when creating a function.');
      if (input.Runtime === undefined || input.Handler === undefined) {
        throw invalidParam(
          'Runtime and Handler are mandatory parameters for functions created with deployment packages.',
        );
      }
      checkRuntime(input.Runtime);
      checkEnvironment(input.Environment?.Variables);
      if (repo.get(ref.accountId, ref.region, ref.name)) throw conflict(`Function already exist: ${ref.name}`);
      const now = ctx.clock.now();
      const code = await codeFrom(storage, input.Code ?? {}, 'CreateFunction', src, ref);
      if (repo.get(ref.accountId, ref.region, ref.name)) throw conflict(`Function already exist: ${ref.name}`);
      const f: FunctionRecord = {
        accountId: ref.accountId,
        region: ref.region,
        name: ref.name,
        latest: {
          version: '$LATEST',
          runtime: input.Runtime,
          role: input.Role,
          handler: input.Handler,
          description: input.Description ?? '',
          timeout: input.Timeout ?? 3,
          memorySize: input.MemorySize ?? 128,
          environment: input.Environment?.Variables,
          code,
          lastModified: now,
          revisionId: randomUUID(),
          architectures: input.Architectures ?? ['x86_64'],
          ephemeralStorage: input.EphemeralStorage?.Size ?? 512,
          logFormat: input.LoggingConfig?.LogFormat ?? 'Text',
          ...logLevels(input.LoggingConfig),
          logGroup: input.LoggingConfig?.LogGroup,
          tracingMode: input.TracingConfig?.Mode ?? 'PassThrough',
          deadLetterTarget: input.DeadLetterConfig?.TargetArn,
          kmsKeyArn: input.KMSKeyArn,
          vpcConfig: input.VpcConfig,
        },
        versions: {},
        nextVersion: 1,
        aliases: {},
        tags: input.Tags ?? {},
      };
      let shown = f.latest;
      if (input.Publish) shown = publish(f, now);
      storage.tx(() => repo.put(f));
      return configuration(f, shown, { pending: true, updating: false });
    },

    GetFunction(input: { FunctionName: string; Qualifier?: string }, ctx: RequestContext) {
      const ref = parseFunctionName(input.FunctionName, ctx);
      const qualifier = input.Qualifier ?? ref.qualifier;
      const f = repo.require(ref, qualifier);
      const v = repo.resolve(f, qualifier);
      const hex = Buffer.from(v.code.sha256, 'base64').toString('hex');
      return {
        Configuration: configuration(f, v),
        Code: { RepositoryType: 'S3', Location: `${ctx.endpoint}/_lambda/code/${hex}.zip` },
        Tags: Object.keys(f.tags).length ? f.tags : undefined,
        Concurrency:
          f.reservedConcurrency !== undefined ? { ReservedConcurrentExecutions: f.reservedConcurrency } : undefined,
      };
    },

    GetFunctionConfiguration(input: { FunctionName: string; Qualifier?: string }, ctx: RequestContext) {
      const ref = parseFunctionName(input.FunctionName, ctx);
      const qualifier = input.Qualifier ?? ref.qualifier;
      const f = repo.require(ref, qualifier);
      return configuration(f, repo.resolve(f, qualifier));
    },

    ListFunctions(
      input: { Marker?: string; MaxItems?: number; FunctionVersion?: string; MasterRegion?: string },
      ctx: RequestContext,
    ) {
      if (input.MasterRegion) throw unsupported('MasterRegion (Lambda@Edge replicas)');
      const all: Record<string, unknown>[] = [];
      for (const f of repo.list(ctx.accountId, ctx.region)) {
        all.push(configuration(f, f.latest));
        if (input.FunctionVersion === 'ALL') for (const v of Object.values(f.versions)) all.push(configuration(f, v));
      }
      const max = input.MaxItems ?? 50;
      const start = input.Marker ? Number(Buffer.from(input.Marker, 'base64').toString()) || 0 : 0;
      const page = all.slice(start, start + max);
      const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
      return { Functions: page, NextMarker: next };
    },

    DeleteFunction(input: { FunctionName: string; Qualifier?: string }, ctx: RequestContext) {
      const ref = parseFunctionName(input.FunctionName, ctx);
      const qualifier = input.Qualifier ?? ref.qualifier;
      const f = repo.require(ref, qualifier);
      if (qualifier && qualifier !== '$LATEST') {
        if (!f.versions[qualifier]) throw notFound(functionArn(f, qualifier));
        const usedBy = Object.values(f.aliases).find((a) => a.functionVersion === qualifier);
        if (usedBy)
          throw conflict(`Unable to delete version because the following aliases reference it: [${usedBy.name}]`);
        delete f.versions[qualifier];
        storage.tx(() => repo.put(f));
      } else if (qualifier === '$LATEST') {
        throw invalidParam('$LATEST version cannot be deleted without deleting the function.');
      } else {
        storage.tx(() => repo.delete(f));
      }
      hooks.retire(f.accountId, f.region, f.name);
      return { StatusCode: 204 };
    },

    async UpdateFunctionCode(input: Record<string, any>, ctx: RequestContext) {
      const ref = parseFunctionName(input.FunctionName, ctx);
      const f = repo.require(ref);
      checkRevision(f.latest.revisionId, input.RevisionId);
      if (input.Architectures?.length > 1) throw invalidParam('Only one architecture is supported per function.');
      if (!input.ZipFile && !input.S3Bucket && !input.ImageUri)
        throw invalidParam('Please provide a source for function code.');
      const code = await codeFrom(storage, input, 'UpdateFunctionCode', src, f);
      if (input.DryRun) return configuration(f, f.latest);
      const now = ctx.clock.now();
      // Another update may have landed while the package was read.
      if (repo.require(ref).latest.revisionId !== f.latest.revisionId) {
        throw conflict(
          `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(f)}`,
        );
      }
      f.latest = { ...f.latest, code, lastModified: now, revisionId: randomUUID() };
      if (input.Architectures) f.latest.architectures = input.Architectures;
      let shown = f.latest;
      if (input.Publish) shown = publish(f, now);
      storage.tx(() => repo.put(f));
      hooks.retire(f.accountId, f.region, f.name);
      return configuration(f, shown, { updating: true });
    },

    UpdateFunctionConfiguration(input: Record<string, any>, ctx: RequestContext) {
      const ref = parseFunctionName(input.FunctionName, ctx);
      const f = repo.require(ref);
      checkRevision(f.latest.revisionId, input.RevisionId);
      refuseUnsupported(input);
      if (input.Runtime !== undefined) checkRuntime(input.Runtime);
      else if (f.latest.runtime && DEPRECATED_RUNTIMES.has(f.latest.runtime)) checkRuntime(f.latest.runtime);
      checkEnvironment(input.Environment?.Variables);
      const v = { ...f.latest };
      if (input.Role !== undefined) v.role = input.Role;
      if (input.Handler !== undefined) v.handler = input.Handler;
      if (input.Runtime !== undefined) v.runtime = input.Runtime;
      if (input.Description !== undefined) v.description = input.Description;
      if (input.Timeout !== undefined) v.timeout = input.Timeout;
      if (input.MemorySize !== undefined) v.memorySize = input.MemorySize;
      if (input.Environment !== undefined) v.environment = input.Environment.Variables;
      if (input.EphemeralStorage !== undefined) v.ephemeralStorage = input.EphemeralStorage.Size;
      if (input.LoggingConfig !== undefined) {
        v.logFormat = input.LoggingConfig.LogFormat ?? v.logFormat;
        Object.assign(v, logLevels({ LogFormat: v.logFormat, ...input.LoggingConfig }));
        v.logGroup = input.LoggingConfig.LogGroup ?? v.logGroup;
      }
      if (input.TracingConfig !== undefined) v.tracingMode = input.TracingConfig.Mode ?? v.tracingMode;
      if (input.DeadLetterConfig !== undefined) v.deadLetterTarget = input.DeadLetterConfig.TargetArn || undefined;
      if (input.KMSKeyArn !== undefined) v.kmsKeyArn = input.KMSKeyArn || undefined;
      if (input.VpcConfig !== undefined) v.vpcConfig = input.VpcConfig;
      v.lastModified = ctx.clock.now();
      v.revisionId = randomUUID();
      f.latest = v;
      storage.tx(() => repo.put(f));
      hooks.retire(f.accountId, f.region, f.name);
      return configuration(f, v, { updating: true });
    },

    PublishVersion(
      input: { FunctionName: string; CodeSha256?: string; Description?: string; RevisionId?: string },
      ctx: RequestContext,
    ) {
      const ref = parseFunctionName(input.FunctionName, ctx);
      const f = repo.require(ref);
      checkRevision(f.latest.revisionId, input.RevisionId);
      if (input.CodeSha256 && input.CodeSha256 !== f.latest.code.sha256) {
        throw invalidParam(
          `CodeSHA256 (${input.CodeSha256}) is different from current CodeSHA256 in $LATEST (${f.latest.code.sha256}). Please try again with the CodeSHA256 in $LATEST.`,
        );
      }
      const v = publish(f, ctx.clock.now(), input.Description);
      storage.tx(() => repo.put(f));
      return configuration(f, v);
    },

    ListVersionsByFunction(input: { FunctionName: string; Marker?: string; MaxItems?: number }, ctx: RequestContext) {
      const ref = parseFunctionName(input.FunctionName, ctx);
      const f = repo.require(ref);
      const all = [configuration(f, f.latest), ...Object.values(f.versions).map((v) => configuration(f, v))];
      return { Versions: all };
    },

    CreateAlias(
      input: { FunctionName: string; Name: string; FunctionVersion: string; Description?: string; RoutingConfig?: any },
      ctx: RequestContext,
    ) {
      const ref = parseFunctionName(input.FunctionName, ctx);
      const f = repo.require(ref);
      if (
        input.RoutingConfig?.AdditionalVersionWeights &&
        Object.keys(input.RoutingConfig.AdditionalVersionWeights).length
      )
        throw unsupported('Alias RoutingConfig (weighted aliases)');
      if (/^\d+$/.test(input.Name)) throw invalidParam('Alias name cannot be a number.');
      if (f.aliases[input.Name]) throw conflict(`Alias already exists: ${functionArn(f, input.Name)}`);
      if (input.FunctionVersion !== '$LATEST' && !f.versions[input.FunctionVersion])
        throw notFound(functionArn(f, input.FunctionVersion));
      const a: AliasRecord = {
        name: input.Name,
        functionVersion: input.FunctionVersion,
        description: input.Description ?? '',
        revisionId: randomUUID(),
      };
      f.aliases[a.name] = a;
      storage.tx(() => repo.put(f));
      return aliasOut(f, a);
    },

    GetAlias(input: { FunctionName: string; Name: string }, ctx: RequestContext) {
      const f = repo.require(parseFunctionName(input.FunctionName, ctx));
      const a = f.aliases[input.Name];
      if (!a)
        throw new AwsError('ResourceNotFoundException', `Cannot find alias arn: ${functionArn(f, input.Name)}`, 404);
      return aliasOut(f, a);
    },

    UpdateAlias(
      input: {
        FunctionName: string;
        Name: string;
        FunctionVersion?: string;
        Description?: string;
        RevisionId?: string;
        RoutingConfig?: any;
      },
      ctx: RequestContext,
    ) {
      const f = repo.require(parseFunctionName(input.FunctionName, ctx));
      const a = f.aliases[input.Name];
      if (!a)
        throw new AwsError('ResourceNotFoundException', `Cannot find alias arn: ${functionArn(f, input.Name)}`, 404);
      checkRevision(a.revisionId, input.RevisionId);
      if (
        input.RoutingConfig?.AdditionalVersionWeights &&
        Object.keys(input.RoutingConfig.AdditionalVersionWeights).length
      )
        throw unsupported('Alias RoutingConfig (weighted aliases)');
      if (input.FunctionVersion !== undefined) {
        if (input.FunctionVersion !== '$LATEST' && !f.versions[input.FunctionVersion])
          throw notFound(functionArn(f, input.FunctionVersion));
        a.functionVersion = input.FunctionVersion;
      }
      if (input.Description !== undefined) a.description = input.Description;
      a.revisionId = randomUUID();
      storage.tx(() => repo.put(f));
      return aliasOut(f, a);
    },

    DeleteAlias(input: { FunctionName: string; Name: string }, ctx: RequestContext) {
      const f = repo.require(parseFunctionName(input.FunctionName, ctx));
      delete f.aliases[input.Name];
      storage.tx(() => repo.put(f));
      return undefined;
    },

    ListAliases(input: { FunctionName: string; FunctionVersion?: string }, ctx: RequestContext) {
      const f = repo.require(parseFunctionName(input.FunctionName, ctx));
      const list = Object.values(f.aliases).filter(
        (a) => !input.FunctionVersion || a.functionVersion === input.FunctionVersion,
      );
      return { Aliases: list.map((a) => aliasOut(f, a)) };
    },

    TagResource(input: { Resource: string; Tags: Record<string, string> }, ctx: RequestContext) {
      const f = taggable(input.Resource, ctx);
      Object.assign(f.tags, input.Tags);
      if (Object.keys(f.tags).length > 50) throw invalidParam('Number of tags exceeds resource tag limit.');
      storage.tx(() => repo.put(f));
      return undefined;
    },
    UntagResource(input: { Resource: string; TagKeys: string[] }, ctx: RequestContext) {
      const f = taggable(input.Resource, ctx);
      for (const k of input.TagKeys ?? []) delete f.tags[k];
      storage.tx(() => repo.put(f));
      return undefined;
    },
    ListTags(input: { Resource: string }, ctx: RequestContext) {
      return { Tags: taggable(input.Resource, ctx).tags };
    },

    PutFunctionConcurrency(input: { FunctionName: string; ReservedConcurrentExecutions: number }, ctx: RequestContext) {
      const f = repo.require(parseFunctionName(input.FunctionName, ctx));
      const reservedElsewhere = repo
        .list(f.accountId, f.region)
        .filter((o) => o.name !== f.name)
        .reduce((n, o) => n + (o.reservedConcurrency ?? 0), 0);
      if (reservedElsewhere + input.ReservedConcurrentExecutions > ACCOUNT_CONCURRENCY - UNRESERVED_MIN) {
        throw invalidParam(
          `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${UNRESERVED_MIN}].`,
        );
      }
      f.reservedConcurrency = input.ReservedConcurrentExecutions;
      storage.tx(() => repo.put(f));
      return { ReservedConcurrentExecutions: f.reservedConcurrency };
    },
    DeleteFunctionConcurrency(input: { FunctionName: string }, ctx: RequestContext) {
      const f = repo.require(parseFunctionName(input.FunctionName, ctx));
      delete f.reservedConcurrency;
      storage.tx(() => repo.put(f));
      return undefined;
    },
    GetFunctionConcurrency(input: { FunctionName: string }, ctx: RequestContext) {
      const f = repo.require(parseFunctionName(input.FunctionName, ctx));
      return { ReservedConcurrentExecutions: f.reservedConcurrency };
    },
    GetAccountSettings(_input: unknown, ctx: RequestContext) {
      const fns = repo.list(ctx.accountId, ctx.region);
      const reserved = fns.reduce((n, f) => n + (f.reservedConcurrency ?? 0), 0);
      const codeSize = fns.reduce(
        (n, f) => n + f.latest.code.size + Object.values(f.versions).reduce((m, v) => m + v.code.size, 0),
        0,
      );
      return {
        AccountLimit: {
          TotalCodeSize: 80530636800,
          CodeSizeUnzipped: 262144000,
          CodeSizeZipped: 52428800,
          ConcurrentExecutions: ACCOUNT_CONCURRENCY,
          UnreservedConcurrentExecutions: ACCOUNT_CONCURRENCY - reserved,
        },
        AccountUsage: { TotalCodeSize: codeSize, FunctionCount: fns.length },
      };
    },
  };

  function taggable(resource: string, ctx: RequestContext): FunctionRecord {
    const m = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_.]+)$/.exec(resource);
    if (!m) throw invalidParam(`Tags are only supported on functions without a qualifier: ${resource}`);
    const f = repo.get(m[2], m[1], m[3]);
    if (!f) throw notFound(resource);
    void ctx;
    return f;
  }

  function aliasOut(f: FunctionRecord, a: AliasRecord) {
    return {
      AliasArn: functionArn(f, a.name),
      Name: a.name,
      FunctionVersion: a.functionVersion,
      Description: a.description,
      RevisionId: a.revisionId,
    };
  }

  return ops;
}

export const ACCOUNT_CONCURRENCY = 1000;
export const UNRESERVED_MIN = 100;
