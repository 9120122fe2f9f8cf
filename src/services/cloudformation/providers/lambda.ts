import { writeZip } from '../../../core/zip.ts';
import { changed, deepEqual, fail, isNotFound, type ResourceContext, type ResourceProvider, tagMap } from './types.ts';

type Props = Record<string, any>;

/**
 * The `cfn-response` module AWS places beside inline (ZipFile) Node.js code. This one sends the
 * response with http or https as the ResponseURL says (Eddy serves it over http).
 */
const CFN_RESPONSE = `'use strict';
exports.SUCCESS = 'SUCCESS';
exports.FAILED = 'FAILED';
exports.send = function (event, context, responseStatus, responseData, physicalResourceId, noEcho) {
  return new Promise(function (resolve, reject) {
    var body = JSON.stringify({
      Status: responseStatus,
      Reason: 'See the details in CloudWatch Log Stream: ' + context.logStreamName,
      PhysicalResourceId: physicalResourceId || context.logStreamName,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: noEcho || false,
      Data: responseData,
    });
    var url = new URL(event.ResponseURL);
    var mod = require(url.protocol === 'http:' ? 'http' : 'https');
    var req = mod.request(url, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } }, function (res) {
      res.resume();
      res.on('end', function () { if (context.done) context.done(); resolve(); });
    });
    req.on('error', function (e) { console.log('send(..) failed executing https.request(..): ' + e); if (context.done) context.done(); reject(e); });
    req.write(body);
    req.end();
  });
};
`;

/** Inline code as AWS writes it: index.js (index.mjs for ES module source), index.py for Python. */
function inlineZip(source: string, runtime: string | undefined): Buffer {
  const entries: { name: string; data: Buffer }[] = [];
  if (runtime?.startsWith('python')) entries.push({ name: 'index.py', data: Buffer.from(source) });
  else {
    const esm = /^\s*(export\s|import\s[^(])/m.test(source);
    entries.push({ name: esm ? 'index.mjs' : 'index.js', data: Buffer.from(source) });
    if (source.includes('cfn-response'))
      entries.push({ name: 'node_modules/cfn-response/index.js', data: Buffer.from(CFN_RESPONSE) });
  }
  return writeZip(entries);
}

/** S3 object bytes through Eddy's S3 (GetObject's Body may be a Buffer, a string or a stream). */
export async function s3Object(ctx: ResourceContext, bucket: string, key: string, version?: string): Promise<Buffer> {
  if (!ctx.has('s3', 'GetObject'))
    fail(`Code in S3 (s3://${bucket}/${key}) needs Eddy's S3, which this Eddy does not serve`);
  const out = await ctx.call('s3', 'GetObject', { Bucket: bucket, Key: key, VersionId: version });
  const body = out.Body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  if (body && typeof body[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks);
  }
  return fail(`Could not read s3://${bucket}/${key}`);
}

/** Lambda's local-directory buckets (code used in place). */
const LOCAL_BUCKETS = new Set(['hot-reload', '__local__']);

async function code(p: Props, ctx: ResourceContext): Promise<Record<string, unknown>> {
  const c = p.Code ?? {};
  if (c.ZipFile !== undefined) return { ZipFile: inlineZip(String(c.ZipFile), p.Runtime) };
  if (c.ImageUri) return { ImageUri: c.ImageUri };
  if (c.S3Bucket && LOCAL_BUCKETS.has(c.S3Bucket)) return { S3Bucket: c.S3Bucket, S3Key: c.S3Key };
  // Lambda reads the package from Eddy's S3 itself; without S3 there is nowhere to read it from.
  if (c.S3Bucket && !ctx.has('s3'))
    fail(`Code in S3 (s3://${c.S3Bucket}/${c.S3Key}) needs Eddy's S3, which this Eddy does not serve`);
  if (c.S3Bucket) return { S3Bucket: c.S3Bucket, S3Key: c.S3Key, S3ObjectVersion: c.S3ObjectVersion };
  return fail('Properties validation failed for resource: Code must have one of ZipFile, S3Bucket/S3Key or ImageUri');
}

const CONFIG = [
  'Role',
  'Handler',
  'Runtime',
  'Description',
  'Timeout',
  'MemorySize',
  'Environment',
  'Architectures',
  'EphemeralStorage',
  'LoggingConfig',
  'TracingConfig',
  'DeadLetterConfig',
  'Layers',
  'VpcConfig',
  'ImageConfig',
  'FileSystemConfigs',
  'SnapStart',
];

function config(p: Props) {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG) if (p[k] !== undefined) out[k] = p[k];
  if (p.KmsKeyArn !== undefined) out.KMSKeyArn = p.KmsKeyArn;
  return out;
}

const functionArn = (ctx: ResourceContext, name: string) =>
  `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}`;

export const lambdaFunction: ResourceProvider = {
  needs: ['lambda'],
  createOnly: ['FunctionName', 'PackageType'],
  nameProperty: 'FunctionName',
  unsupported: ['CodeSigningConfigArn', 'RuntimeManagementConfig', 'RecursiveLoop'],
  async create(p, ctx) {
    const name = p.FunctionName ?? ctx.physicalName({ maxLength: 64 });
    await ctx.call('lambda', 'CreateFunction', {
      FunctionName: name,
      ...config(p),
      Code: await code(p, ctx),
      PackageType: p.PackageType,
      Tags: tagMap(p.Tags),
    });
    try {
      if (p.ReservedConcurrentExecutions !== undefined)
        await ctx.call('lambda', 'PutFunctionConcurrency', {
          FunctionName: name,
          ReservedConcurrentExecutions: p.ReservedConcurrentExecutions,
        });
    } catch (e) {
      await ctx.call('lambda', 'DeleteFunction', { FunctionName: name }).catch(() => {});
      throw e;
    }
    return { physicalId: name, attrs: { Arn: functionArn(ctx, name) } };
  },
  async update(p, prev, ctx) {
    const name = prev.physicalId;
    const diff = changed(prev.props, p);
    if (diff.has('Code'))
      await ctx.call('lambda', 'UpdateFunctionCode', { FunctionName: name, ...(await code(p, ctx)) });
    if (CONFIG.some((k) => diff.has(k)) || diff.has('KmsKeyArn')) {
      const cfg = config(p);
      // Removed properties go back to their defaults, as AWS applies the template's full configuration.
      await ctx.call('lambda', 'UpdateFunctionConfiguration', {
        FunctionName: name,
        Description: '',
        Timeout: 3,
        MemorySize: 128,
        Environment: { Variables: {} },
        ...cfg,
      });
    }
    if (diff.has('ReservedConcurrentExecutions')) {
      if (p.ReservedConcurrentExecutions === undefined)
        await ctx.call('lambda', 'DeleteFunctionConcurrency', { FunctionName: name });
      else
        await ctx.call('lambda', 'PutFunctionConcurrency', {
          FunctionName: name,
          ReservedConcurrentExecutions: p.ReservedConcurrentExecutions,
        });
    }
    if (diff.has('Tags')) {
      const arn = functionArn(ctx, name);
      const o = tagMap(prev.props.Tags) ?? {};
      const n = tagMap(p.Tags) ?? {};
      const removed = Object.keys(o).filter((k) => !(k in n));
      if (removed.length) await ctx.call('lambda', 'UntagResource', { Resource: arn, TagKeys: removed });
      if (Object.keys(n).length) await ctx.call('lambda', 'TagResource', { Resource: arn, Tags: n });
    }
    return { physicalId: name, attrs: prev.attrs };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('lambda', 'DeleteFunction', { FunctionName: prev.physicalId });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

/**
 * AWS::Lambda::Permission: through Lambda's AddPermission when Lambda has it; until then the
 * function's existence is checked and the permission kept by the stack (Eddy does not enforce
 * resource policies yet).
 */
export const lambdaPermission: ResourceProvider = {
  needs: ['lambda'],
  createOnly: [
    'Action',
    'EventSourceToken',
    'FunctionName',
    'Principal',
    'SourceAccount',
    'SourceArn',
    'PrincipalOrgID',
    'FunctionUrlAuthType',
  ],
  async create(p, ctx) {
    const id = ctx.physicalName({ maxLength: 100 });
    if (ctx.has('lambda', 'AddPermission')) {
      await ctx.call('lambda', 'AddPermission', {
        FunctionName: p.FunctionName,
        StatementId: id,
        Action: p.Action,
        Principal: p.Principal,
        SourceArn: p.SourceArn,
        SourceAccount: p.SourceAccount,
        EventSourceToken: p.EventSourceToken,
        PrincipalOrgID: p.PrincipalOrgID,
        FunctionUrlAuthType: p.FunctionUrlAuthType,
      });
    } else await ctx.call('lambda', 'GetFunctionConfiguration', { FunctionName: p.FunctionName });
    return { physicalId: id };
  },
  async delete(prev, ctx) {
    if (!ctx.has('lambda', 'RemovePermission')) return;
    try {
      await ctx.call('lambda', 'RemovePermission', {
        FunctionName: prev.props.FunctionName,
        StatementId: prev.physicalId,
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

const ESM_CREATE_ONLY = [
  'EventSourceArn',
  'StartingPosition',
  'StartingPositionTimestamp',
  'SelfManagedEventSource',
  'AmazonManagedKafkaEventSourceConfig',
  'SelfManagedKafkaEventSourceConfig',
  'Topics',
  'Queues',
];

/** Wait for a mapping to leave its transitional state (Creating, Updating, ...), as CloudFormation does. */
async function settled(ctx: ResourceContext, uuid: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    let state: string;
    try {
      state = (await ctx.call('lambda', 'GetEventSourceMapping', { UUID: uuid })).State;
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    if (!/ing$/.test(state) || state === 'Deleting') return;
    await ctx.sleep(i < 20 ? 0 : 50);
  }
}

/** Retry while the mapping is busy changing state (ResourceInUseException). */
async function whenIdle<T>(ctx: ResourceContext, uuid: string, fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if ((e as { code?: string }).code !== 'ResourceInUseException' || i >= 20) throw e;
      await settled(ctx, uuid);
    }
  }
}

export const lambdaEventSourceMapping: ResourceProvider = {
  needs: ['lambda:CreateEventSourceMapping'],
  createOnly: ESM_CREATE_ONLY,
  async create(p, ctx) {
    const out = await ctx.call('lambda', 'CreateEventSourceMapping', { ...p, Tags: tagMap(p.Tags) });
    await settled(ctx, out.UUID);
    return {
      physicalId: out.UUID,
      attrs: {
        Id: out.UUID,
        EventSourceMappingArn:
          out.EventSourceMappingArn ?? `arn:aws:lambda:${ctx.region}:${ctx.accountId}:event-source-mapping:${out.UUID}`,
      },
    };
  },
  async update(p, prev, ctx) {
    const upd: Record<string, unknown> = { UUID: prev.physicalId };
    for (const [k, v] of Object.entries(p)) if (!ESM_CREATE_ONLY.includes(k) && k !== 'Tags') upd[k] = v;
    if (prev.props.Enabled !== undefined && p.Enabled === undefined) upd.Enabled = true;
    if (!deepEqual(prev.props.FilterCriteria, p.FilterCriteria) && p.FilterCriteria === undefined)
      upd.FilterCriteria = { Filters: [] };
    await whenIdle(ctx, prev.physicalId, () => ctx.call('lambda', 'UpdateEventSourceMapping', upd));
    await settled(ctx, prev.physicalId);
    return { physicalId: prev.physicalId, attrs: prev.attrs };
  },
  async delete(prev, ctx) {
    try {
      await whenIdle(ctx, prev.physicalId, () =>
        ctx.call('lambda', 'DeleteEventSourceMapping', { UUID: prev.physicalId }),
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

export const lambdaEventInvokeConfig: ResourceProvider = {
  needs: ['lambda:PutFunctionEventInvokeConfig'],
  createOnly: ['FunctionName', 'Qualifier'],
  async create(p, ctx) {
    await ctx.call('lambda', 'PutFunctionEventInvokeConfig', {
      FunctionName: p.FunctionName,
      Qualifier: p.Qualifier,
      MaximumRetryAttempts: p.MaximumRetryAttempts,
      MaximumEventAgeInSeconds: p.MaximumEventAgeInSeconds,
      DestinationConfig: p.DestinationConfig,
    });
    return { physicalId: `${p.FunctionName}|${p.Qualifier}` };
  },
  async update(p, prev, ctx) {
    await this.create(p, ctx);
    return { physicalId: prev.physicalId };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('lambda', 'DeleteFunctionEventInvokeConfig', {
        FunctionName: prev.props.FunctionName,
        Qualifier: prev.props.Qualifier,
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

export const lambdaVersionOrAlias = {
  version: {
    needs: ['lambda'],
    createOnly: ['FunctionName', 'CodeSha256', 'Description', 'ProvisionedConcurrencyConfig', 'RuntimePolicy'],
    async create(p, ctx) {
      const out = await ctx.call('lambda', 'PublishVersion', {
        FunctionName: p.FunctionName,
        Description: p.Description,
        CodeSha256: p.CodeSha256,
      });
      return { physicalId: out.FunctionArn, attrs: { Version: out.Version, FunctionArn: out.FunctionArn } };
    },
    async delete() {
      // AWS keeps published versions when the resource is replaced or deleted only if retained; Eddy keeps them.
    },
  } satisfies ResourceProvider,
  alias: {
    needs: ['lambda'],
    createOnly: ['FunctionName', 'Name'],
    async create(p, ctx) {
      const out = await ctx.call('lambda', 'CreateAlias', {
        FunctionName: p.FunctionName,
        Name: p.Name,
        FunctionVersion: p.FunctionVersion,
        Description: p.Description,
        RoutingConfig: p.RoutingConfig,
      });
      return { physicalId: out.AliasArn, attrs: { AliasArn: out.AliasArn } };
    },
    async update(p, prev, ctx) {
      await ctx.call('lambda', 'UpdateAlias', {
        FunctionName: p.FunctionName,
        Name: p.Name,
        FunctionVersion: p.FunctionVersion,
        Description: p.Description ?? '',
        RoutingConfig: p.RoutingConfig,
      });
      return { physicalId: prev.physicalId, attrs: prev.attrs };
    },
    async delete(prev, ctx) {
      try {
        await ctx.call('lambda', 'DeleteAlias', { FunctionName: prev.props.FunctionName, Name: prev.props.Name });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },
  } satisfies ResourceProvider,
};
