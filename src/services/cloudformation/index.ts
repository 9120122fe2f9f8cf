import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../core/context.ts';
import { AwsError } from '../../core/errors.ts';
import type { ServiceDeps } from '../../core/ports.ts';
import type { ServiceImpl } from '../../gateway/service.ts';
import type { RawRequest, RawResponse } from '../../protocol/types.ts';
import { type AwsCallPort, type Deployment, Engine, interruptedStatus, withStackTags } from './engine.ts';
import {
  alreadyExists,
  changeSetNotFound,
  insufficientCapabilities,
  stackNotFound,
  validationError,
} from './errors.ts';
import { evalCondition, resolve, type Scope } from './intrinsics.ts';
import { createOnlyOf, IAM_TYPES, isCustomType, providerFor } from './providers/index.ts';
import { changed, deepEqual } from './providers/types.ts';
import { SCHEMAS } from './schemas.generated.ts';
import { type ChangeSetRecord, type StackParameter, type StackRecord, StackStore } from './store.ts';
import { dependencies, parseTemplate, type Template, topoOrder } from './template.ts';

export type { AwsCallPort } from './engine.ts';

export interface CloudFormationService {
  service: ServiceImpl;
  /** Connect the in-process caller once every other service exists. */
  connect(aws: AwsCallPort): void;
  stop(): void;
}

/** The CDK bootstrap version Eddy reports for `/cdk-bootstrap/<qualifier>/version` (it needs no bootstrap stack). */
export const CDK_BOOTSTRAP_VERSION = '30';

/** AWS's quotas: a template in the request body, and one read from S3. */
const TEMPLATE_BODY_MAX = 51_200;
const TEMPLATE_URL_MAX = 1_000_000;

type GivenParameter = { ParameterKey: string; ParameterValue?: string; UsePreviousValue?: boolean };

const TERMINAL_OK = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
  'IMPORT_COMPLETE',
  'IMPORT_ROLLBACK_COMPLETE',
]);

export function createCloudFormationService(deps: ServiceDeps): CloudFormationService {
  const store = new StackStore(deps.storage);
  let aws: AwsCallPort | undefined;
  const engine = new Engine({ store, clock: deps.clock, logger: deps.logger, aws: () => aws });

  // Operations a previous run left mid-way cannot resume: mark them failed, as a crash would.
  const recover = () => {
    for (const s of store.everything()) {
      if (!s.status.endsWith('_IN_PROGRESS') || s.status === 'REVIEW_IN_PROGRESS') continue;
      engine.stackStatus(s, interruptedStatus(s.status), 'Eddy stopped while this operation was in progress');
    }
  };
  recover();

  // ---- lookups --------------------------------------------------------------------------------------

  const find = (ctx: RequestContext, nameOrId: string): StackRecord | undefined => {
    if (nameOrId.startsWith('arn:')) {
      const s = store.get(nameOrId);
      return s && s.accountId === ctx.accountId ? s : undefined;
    }
    const id = store.idByName(ctx.accountId, ctx.region, nameOrId);
    return id ? store.get(id) : undefined;
  };
  const live = (ctx: RequestContext, nameOrId: string): StackRecord => {
    const s = find(ctx, nameOrId);
    if (!s || (s.deletedAt !== undefined && !nameOrId.startsWith('arn:'))) throw stackNotFound(nameOrId);
    return s;
  };

  const findChangeSet = (ctx: RequestContext, name: string, stackName?: string): ChangeSetRecord => {
    if (name.startsWith('arn:')) {
      for (const s of store.all(ctx.accountId, ctx.region))
        for (const c of store.changeSets(s.stackId)) if (c.id === name) return c;
      throw changeSetNotFound(name);
    }
    if (!stackName) throw validationError('StackName must be specified if ChangeSetName is not specified as an ARN.');
    const s = find(ctx, stackName);
    const c = s && store.changeSet(s.stackId, name);
    if (!c) throw changeSetNotFound(name);
    return c;
  };

  // ---- templates and parameters ------------------------------------------------------------------------

  const templateText = async (
    input: { TemplateBody?: string; TemplateURL?: string },
    ctx: RequestContext,
  ): Promise<string> => {
    if (input.TemplateBody !== undefined && input.TemplateURL !== undefined)
      throw validationError('You cannot specify both TemplateURL and TemplateBody');
    if (input.TemplateBody !== undefined) {
      if (Buffer.byteLength(input.TemplateBody) > TEMPLATE_BODY_MAX)
        throw validationError(
          `1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to ${TEMPLATE_BODY_MAX}`,
        );
      return input.TemplateBody;
    }
    if (input.TemplateURL === undefined)
      throw validationError('Either Template URL or Template Body must be specified.');
    return fetchTemplate(input.TemplateURL, ctx);
  };

  const fetchTemplate = async (url: string, ctx: RequestContext): Promise<string> => {
    const loc = s3Location(url);
    if (!loc) throw validationError(`TemplateURL must be a supported URL (an S3 object URL). Got: ${url}`);
    if (!aws?.has('s3', 'GetObject'))
      throw validationError(
        `TemplateURL needs Eddy's S3, which this Eddy does not serve; pass the template with TemplateBody (--template-body file://...)`,
      );
    try {
      const out = await aws.call('s3', 'GetObject', { Bucket: loc.bucket, Key: loc.key }, ctx);
      const body = out.Body;
      let text: string;
      if (Buffer.isBuffer(body)) text = body.toString('utf8');
      else if (typeof body === 'string') text = body;
      else {
        const chunks: Buffer[] = [];
        for await (const c of body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
        text = Buffer.concat(chunks).toString('utf8');
      }
      if (Buffer.byteLength(text) > TEMPLATE_URL_MAX)
        throw validationError(`Template may not exceed ${TEMPLATE_URL_MAX} bytes in size.`);
      return text;
    } catch (e) {
      throw validationError(
        `S3 error: Unable to get object ${loc.key} from bucket ${loc.bucket}: ${(e as Error).message}`,
      );
    }
  };

  const resolveParameters = async (
    t: Template,
    given: GivenParameter[] = [],
    previous: StackParameter[] | undefined,
    ctx: RequestContext,
  ): Promise<{ list: StackParameter[]; values: Record<string, string | string[]> }> => {
    const decls = t.Parameters ?? {};
    const unknown = given.map((g) => g.ParameterKey).filter((k) => !(k in decls));
    if (unknown.length) throw validationError(`Parameters: [${unknown.join(', ')}] do not exist in the template`);
    const list: StackParameter[] = [];
    const values: Record<string, string | string[]> = {};
    const missing: string[] = [];
    for (const [key, p] of Object.entries(decls)) {
      const g = given.find((x) => x.ParameterKey === key);
      let value: string | undefined;
      if (g?.UsePreviousValue) {
        const prev = previous?.find((x) => x.ParameterKey === key);
        if (!prev)
          throw validationError(
            `Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template`,
          );
        value = prev.ParameterValue;
      } else if (g?.ParameterValue !== undefined) value = g.ParameterValue;
      else if (p.Default !== undefined) value = Array.isArray(p.Default) ? p.Default.join(',') : String(p.Default);
      if (value === undefined) {
        missing.push(key);
        continue;
      }
      const noEcho = p.NoEcho === true || p.NoEcho === 'true';
      let resolved: string | undefined;
      const ssm = /^AWS::SSM::Parameter::Value<(.+)>$/.exec(p.Type);
      if (ssm) {
        resolved = await ssmValue(key, value, p.Type, ctx);
        values[key] = ssm[1].startsWith('List<') || ssm[1] === 'CommaDelimitedList' ? resolved.split(',') : resolved;
      } else {
        checkParameter(key, p, value);
        values[key] =
          p.Type.startsWith('List<') || p.Type === 'CommaDelimitedList' ? value.split(',').map((x) => x.trim()) : value;
      }
      list.push({ ParameterKey: key, ParameterValue: value, ResolvedValue: resolved, noEcho });
    }
    if (missing.length) throw validationError(`Parameters: [${missing.join(', ')}] must have values`);
    return { list, values };
  };

  const ssmValue = async (key: string, name: string, type: string, ctx: RequestContext): Promise<string> => {
    if (/^\/cdk-bootstrap\/[^/]+\/version$/.test(name)) return CDK_BOOTSTRAP_VERSION;
    if (aws?.has('ssm', 'GetParameter')) {
      try {
        const out = await aws.call('ssm', 'GetParameter', { Name: name, WithDecryption: false }, ctx);
        return String(out.Parameter.Value);
      } catch {
        throw validationError(`Unable to fetch parameters [${name}] from parameter store for this account.`);
      }
    }
    throw validationError(
      `Parameter ${key} has type ${type}, which is not supported by Eddy (no SSM Parameter Store): pass the value with a String parameter`,
    );
  };

  const checkCapabilities = (t: Template, caps: string[] = []) => {
    const need = new Set<string>();
    for (const r of Object.values(t.Resources)) {
      if (!(r.Type in IAM_TYPES)) continue;
      const nameProp = IAM_TYPES[r.Type];
      need.add(nameProp && r.Properties?.[nameProp] !== undefined ? 'CAPABILITY_NAMED_IAM' : 'CAPABILITY_IAM');
    }
    if (need.has('CAPABILITY_NAMED_IAM')) {
      if (!caps.includes('CAPABILITY_NAMED_IAM')) throw insufficientCapabilities(['CAPABILITY_NAMED_IAM']);
    } else if (need.has('CAPABILITY_IAM') && !caps.includes('CAPABILITY_IAM') && !caps.includes('CAPABILITY_NAMED_IAM'))
      throw insufficientCapabilities(['CAPABILITY_IAM']);
  };

  /** Everything CloudFormation checks before it accepts a template for a stack. */
  const prepare = async (
    body: string,
    given: GivenParameter[] | undefined,
    caps: string[] | undefined,
    previous: StackParameter[] | undefined,
    ctx: RequestContext,
    stackName: string,
  ): Promise<{ dep: Deployment; params: StackParameter[] }> => {
    if (body.includes('{{resolve:'))
      throw validationError(
        'Dynamic references ({{resolve:ssm:...}}, {{resolve:secretsmanager:...}}) are not supported by Eddy',
      );
    const template = parseTemplate(body);
    topoOrder(Object.keys(template.Resources), dependencies(template));
    for (const [id, r] of Object.entries(template.Resources)) {
      if (r.Condition !== undefined && !template.Conditions?.[r.Condition])
        throw validationError(
          `Template format error: Unresolved dependencies [${r.Condition}]. Cannot reference resources in the Conditions block of the template`,
        );
      if (
        r.DeletionPolicy !== undefined &&
        !['Delete', 'Retain', 'Snapshot', 'RetainExceptOnCreate'].includes(r.DeletionPolicy)
      )
        throw validationError(
          `Template format error: Unrecognized DeletionPolicy ${r.DeletionPolicy} for resource ${id}`,
        );
    }
    checkGetAtts(template);
    checkCapabilities(template, caps);
    const { list, values } = await resolveParameters(template, given, previous, ctx);
    const dep: Deployment = { template, templateBody: body, values };
    checkRules(template, values, ctx, stackName);
    return { dep, params: list };
  };

  const checkRules = (
    t: Template,
    values: Record<string, string | string[]>,
    ctx: RequestContext,
    stackName: string,
  ) => {
    const scope = staticScope(t, values, ctx, stackName);
    for (const [name, rule] of Object.entries(t.Rules ?? {})) {
      if (rule.RuleCondition !== undefined && resolve(rule.RuleCondition, scope) !== true) continue;
      for (const a of rule.Assertions ?? []) {
        if (resolve(a.Assert, scope) !== true)
          throw validationError(a.AssertDescription ?? `Template validation error: rule ${name} failed an assertion`);
      }
    }
  };

  const staticScope = (
    t: Template,
    values: Record<string, string | string[]>,
    ctx: RequestContext,
    stackName: string,
  ): Scope => ({
    template: t,
    params: values,
    pseudo: { accountId: ctx.accountId, region: ctx.region, stackName, stackId: '' },
    ref: () => undefined,
    getAtt: () => undefined,
    importValue: (name) => store.getExport(ctx.accountId, ctx.region, name)?.value ?? '',
  });

  // ---- change sets -------------------------------------------------------------------------------

  /** The resource changes an update would make (placeholders stand for values not known before it runs). */
  const computeChanges = (
    s: StackRecord | undefined,
    dep: Deployment,
    ctx: RequestContext,
    tags: { Key: string; Value: string }[],
  ): unknown[] => {
    const changes: unknown[] = [];
    const pending = new Set<string>();
    const scope: Scope = {
      ...staticScope(dep.template, dep.values, ctx, s?.stackName ?? ''),
      pseudo: {
        accountId: ctx.accountId,
        region: ctx.region,
        stackName: s?.stackName ?? '',
        stackId: s?.stackId ?? '',
      },
      ref: (id) =>
        pending.has(id)
          ? `{{changing:${id}}}`
          : (s?.resources[id]?.ref ?? s?.resources[id]?.physicalId ?? `{{new:${id}}}`),
      getAtt: (id, attr) =>
        pending.has(id) ? `{{changing:${id}.${attr}}}` : (s?.resources[id]?.attrs?.[attr] ?? `{{new:${id}.${attr}}}`),
    };
    const ids = Object.entries(dep.template.Resources)
      .filter(([, r]) => r.Condition === undefined || evalCondition(r.Condition, scope))
      .map(([id]) => id);
    const order = topoOrder(ids, dependencies(dep.template));
    for (const id of order) {
      const decl = dep.template.Resources[id];
      const old = s?.resources[id];
      const base = { LogicalResourceId: id, ResourceType: decl.Type };
      if (!old?.physicalId) {
        pending.add(id);
        changes.push({ Type: 'Resource', ResourceChange: { Action: 'Add', ...base, Scope: [], Details: [] } });
        continue;
      }
      let props: Record<string, unknown>;
      try {
        props = withStackTags(decl.Type, resolve(decl.Properties ?? {}, scope) ?? {}, tags);
      } catch {
        props = { unresolved: true };
      }
      if (deepEqual(old.props, props) && old.type === decl.Type) continue;
      const provider = providerFor(decl.Type, (svc, op) => !!aws?.has(svc, op));
      const diff = changed(old.props ?? {}, props);
      const createOnly = createOnlyOf(decl.Type, provider);
      const replace = old.type !== decl.Type || !provider?.update || [...createOnly].some((k) => diff.has(k));
      const unknownValues = JSON.stringify(props).includes('{{changing:');
      if (replace) pending.add(id);
      changes.push({
        Type: 'Resource',
        ResourceChange: {
          Action: 'Modify',
          ...base,
          PhysicalResourceId: old.physicalId,
          Replacement: replace ? 'True' : unknownValues ? 'Conditional' : 'False',
          Scope: ['Properties'],
          Details: [...diff].map((name) => ({
            Target: {
              Attribute: 'Properties',
              Name: name,
              RequiresRecreation: replace && createOnly.has(name) ? 'Always' : 'Never',
            },
            Evaluation: (JSON.stringify(props[name]) ?? '').includes('{{') ? 'Dynamic' : 'Static',
            ChangeSource: 'DirectModification',
          })),
        },
      });
    }
    for (const [id, r] of Object.entries(s?.resources ?? {})) {
      if (order.includes(id)) continue;
      changes.push({
        Type: 'Resource',
        ResourceChange: {
          Action: 'Remove',
          LogicalResourceId: id,
          PhysicalResourceId: r.physicalId,
          ResourceType: r.type,
          Scope: [],
          Details: [],
        },
      });
    }
    return changes;
  };

  // ---- output shapes ------------------------------------------------------------------------------

  const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));
  const shownParameters = (list: StackParameter[]) =>
    list.map((p) => ({
      ParameterKey: p.ParameterKey,
      ParameterValue: p.noEcho ? '****' : p.ParameterValue,
      ResolvedValue: p.ResolvedValue,
    }));
  const stackShape = (s: StackRecord) => ({
    StackId: s.stackId,
    StackName: s.stackName,
    ChangeSetId: s.changeSetId,
    Description: s.description,
    Parameters: s.parameters.length ? shownParameters(s.parameters) : undefined,
    CreationTime: date(s.createdAt),
    DeletionTime: date(s.deletedAt),
    LastUpdatedTime: date(s.updatedAt),
    RollbackConfiguration: {},
    StackStatus: s.status,
    StackStatusReason: s.statusReason,
    DisableRollback: s.disableRollback,
    NotificationARNs: s.notificationARNs,
    TimeoutInMinutes: s.timeoutInMinutes,
    Capabilities: s.capabilities.length ? s.capabilities : undefined,
    Outputs: s.outputs.length ? s.outputs : undefined,
    RoleARN: s.roleARN,
    Tags: s.tags,
    EnableTerminationProtection: s.terminationProtection,
    DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
  });
  const resourceShape = (s: StackRecord, id: string) => {
    const r = s.resources[id];
    return {
      StackName: s.stackName,
      StackId: s.stackId,
      LogicalResourceId: id,
      PhysicalResourceId: r.physicalId,
      ResourceType: r.type,
      Timestamp: date(r.updatedAt),
      LastUpdatedTimestamp: date(r.updatedAt),
      ResourceStatus: r.status,
      ResourceStatusReason: r.statusReason,
      Description: r.description,
      Metadata: r.metadata === undefined ? undefined : JSON.stringify(r.metadata),
      DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
    };
  };
  const page = <T>(items: T[], token: string | undefined, size: number) => {
    const start = token ? Number(Buffer.from(token, 'base64').toString()) || 0 : 0;
    const slice = items.slice(start, start + size);
    const next = start + size < items.length ? Buffer.from(String(start + size)).toString('base64') : undefined;
    return { slice, next };
  };

  const checkName = (name: string) => {
    if (!/^[a-zA-Z][-a-zA-Z0-9]*$/.test(name) || name.length > 128)
      throw validationError(
        `1 validation error detected: Value '${name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`,
      );
  };

  const newStack = (ctx: RequestContext, name: string, input: Record<string, any>, status: string): StackRecord => ({
    stackId: `arn:aws:cloudformation:${ctx.region}:${ctx.accountId}:stack/${name}/${randomUUID()}`,
    stackName: name,
    accountId: ctx.accountId,
    region: ctx.region,
    status,
    createdAt: deps.clock.now(),
    templateBody: '',
    parameters: [],
    capabilities: input.Capabilities ?? [],
    tags: input.Tags ?? [],
    disableRollback: input.DisableRollback ?? false,
    onFailure: input.OnFailure,
    notificationARNs: input.NotificationARNs ?? [],
    timeoutInMinutes: input.TimeoutInMinutes,
    roleARN: input.RoleARN,
    terminationProtection: input.EnableTerminationProtection ?? false,
    outputs: [],
    resources: {},
    endpoint: deps.endpoint() || ctx.endpoint,
    eventSeq: 0,
  });

  const refuseUnsupported = (input: Record<string, any>) => {
    if (
      input.StackPolicyBody ||
      input.StackPolicyURL ||
      input.StackPolicyDuringUpdateBody ||
      input.StackPolicyDuringUpdateURL
    )
      throw validationError('Stack policies are not supported by Eddy');
    if (input.RollbackConfiguration?.RollbackTriggers?.length)
      throw validationError('RollbackTriggers are not supported by Eddy');
    if (input.ResourcesToImport) throw validationError('Resource import is not supported by Eddy');
    if (input.IncludeNestedStacks) throw validationError('Nested stacks are not supported by Eddy');
  };

  /** Previous deployment of a stack (for update rollback and UsePreviousTemplate). */
  const previousDeployment = (s: StackRecord): Deployment => {
    const template = parseTemplate(s.templateBody);
    const values: Record<string, string | string[]> = {};
    for (const p of s.parameters) {
      const decl = template.Parameters?.[p.ParameterKey];
      const v = p.ResolvedValue ?? p.ParameterValue;
      values[p.ParameterKey] =
        decl && (decl.Type.includes('List<') || decl.Type === 'CommaDelimitedList') ? v.split(',') : v;
    }
    return { template, templateBody: s.templateBody, values };
  };

  const startUpdate = (s: StackRecord, dep: Deployment, params: StackParameter[], input: Record<string, any>) => {
    const previous = previousDeployment(s);
    s.parameters = params;
    if (input.Capabilities) s.capabilities = input.Capabilities;
    if (input.Tags) s.tags = input.Tags;
    if (input.NotificationARNs) s.notificationARNs = input.NotificationARNs;
    if (input.DisableRollback !== undefined) s.disableRollback = input.DisableRollback;
    s.status = 'UPDATE_IN_PROGRESS';
    store.put(s);
    return engine.schedule(s.stackId, () => engine.update(s.stackId, dep, previous));
  };

  const operations = {
    async CreateStack(input: Record<string, any>, ctx: RequestContext) {
      checkName(input.StackName);
      refuseUnsupported(input);
      const existing = find(ctx, input.StackName);
      if (existing && existing.deletedAt === undefined) throw alreadyExists(input.StackName);
      const body = await templateText(input, ctx);
      const { dep, params } = await prepare(
        body,
        input.Parameters,
        input.Capabilities,
        undefined,
        ctx,
        input.StackName,
      );
      const s = newStack(ctx, input.StackName, input, 'CREATE_IN_PROGRESS');
      s.templateBody = body;
      s.description = dep.template.Description;
      s.parameters = params;
      store.put(s);
      await engine.briefly(engine.schedule(s.stackId, () => engine.create(s.stackId, dep)));
      return { StackId: s.stackId };
    },

    async UpdateStack(input: Record<string, any>, ctx: RequestContext) {
      refuseUnsupported(input);
      const s = live(ctx, input.StackName);
      if (!TERMINAL_OK.has(s.status))
        throw validationError(`Stack:${s.stackId} is in ${s.status} state and can not be updated.`);
      let body: string;
      if (input.UsePreviousTemplate) {
        if (input.TemplateBody !== undefined || input.TemplateURL !== undefined)
          throw validationError('You cannot specify both usePreviousTemplate and Template Body/Template URL');
        body = s.templateBody;
      } else body = await templateText(input, ctx);
      const { dep, params } = await prepare(
        body,
        input.Parameters,
        input.Capabilities ?? s.capabilities,
        s.parameters,
        ctx,
        s.stackName,
      );
      const sameParams = deepEqual(
        params.map((p) => [p.ParameterKey, p.ParameterValue]),
        s.parameters.map((p) => [p.ParameterKey, p.ParameterValue]),
      );
      if (body === s.templateBody && sameParams && (input.Tags === undefined || deepEqual(input.Tags, s.tags)))
        throw validationError('No updates are to be performed.');
      await engine.briefly(startUpdate(s, dep, params, input));
      return { StackId: s.stackId };
    },

    async DeleteStack(
      input: { StackName: string; RetainResources?: string[]; DeletionMode?: string },
      ctx: RequestContext,
    ) {
      const s = find(ctx, input.StackName);
      if (!s || s.deletedAt !== undefined) return {};
      if (input.DeletionMode === 'FORCE_DELETE_STACK')
        throw validationError('DeletionMode FORCE_DELETE_STACK is not supported by Eddy');
      if (s.terminationProtection)
        throw validationError(`Stack [${s.stackName}] cannot be deleted while TerminationProtection is enabled`);
      if (s.status === 'DELETE_IN_PROGRESS') return {};
      if (input.RetainResources?.length) {
        if (s.status !== 'DELETE_FAILED')
          throw validationError(
            'Invalid operation on stack. RetainResources can only be specified for stacks in DELETE_FAILED state',
          );
        for (const id of input.RetainResources) delete s.resources[id];
      }
      if (s.status === 'REVIEW_IN_PROGRESS') {
        for (const c of store.changeSets(s.stackId)) store.deleteChangeSet(c);
        s.deletedAt = deps.clock.now();
        engine.stackStatus(s, 'DELETE_COMPLETE');
        return {};
      }
      if (s.status.endsWith('_IN_PROGRESS')) {
        engine.requestDelete(s.stackId);
        return {};
      }
      s.status = 'DELETE_IN_PROGRESS';
      store.put(s);
      await engine.briefly(engine.schedule(s.stackId, () => engine.delete(s.stackId)));
      return {};
    },

    DescribeStacks(input: { StackName?: string; NextToken?: string }, ctx: RequestContext) {
      if (input.StackName) return { Stacks: [stackShape(live(ctx, input.StackName))] };
      const all = store.all(ctx.accountId, ctx.region).filter((s) => s.deletedAt === undefined);
      const { slice, next } = page(all, input.NextToken, 100);
      return { Stacks: slice.map(stackShape), NextToken: next };
    },

    ListStacks(input: { StackStatusFilter?: string[]; NextToken?: string }, ctx: RequestContext) {
      const filter = input.StackStatusFilter?.length ? new Set(input.StackStatusFilter) : undefined;
      const all = store.all(ctx.accountId, ctx.region).filter((s) => !filter || filter.has(s.status));
      const { slice, next } = page(all, input.NextToken, 100);
      return {
        StackSummaries: slice.map((s) => ({
          StackId: s.stackId,
          StackName: s.stackName,
          TemplateDescription: s.description,
          CreationTime: date(s.createdAt),
          LastUpdatedTime: date(s.updatedAt),
          DeletionTime: date(s.deletedAt),
          StackStatus: s.status,
          StackStatusReason: s.statusReason,
          DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
        })),
        NextToken: next,
      };
    },

    DescribeStackEvents(input: { StackName: string; NextToken?: string }, ctx: RequestContext) {
      const s = live(ctx, input.StackName);
      const { slice, next } = page(store.events(s.stackId), input.NextToken, 100);
      return { StackEvents: slice.map((e) => ({ ...e, Timestamp: new Date(e.Timestamp) })), NextToken: next };
    },

    DescribeStackResource(input: { StackName: string; LogicalResourceId: string }, ctx: RequestContext) {
      const s = live(ctx, input.StackName);
      if (!s.resources[input.LogicalResourceId])
        throw validationError(`Resource ${input.LogicalResourceId} does not exist for stack ${input.StackName}`);
      return { StackResourceDetail: resourceShape(s, input.LogicalResourceId) };
    },

    DescribeStackResources(
      input: { StackName?: string; LogicalResourceId?: string; PhysicalResourceId?: string },
      ctx: RequestContext,
    ) {
      let s: StackRecord | undefined;
      if (input.StackName) s = live(ctx, input.StackName);
      else if (input.PhysicalResourceId) {
        s = store
          .all(ctx.accountId, ctx.region)
          .find(
            (x) =>
              x.deletedAt === undefined &&
              Object.values(x.resources).some((r) => r.physicalId === input.PhysicalResourceId),
          );
        if (!s) throw validationError(`Stack for ${input.PhysicalResourceId} does not exist`);
      } else throw validationError('Either StackName or PhysicalResourceId must be specified.');
      const ids = Object.keys(s.resources).filter(
        (id) =>
          (!input.LogicalResourceId || id === input.LogicalResourceId) &&
          (!input.PhysicalResourceId || !input.StackName || s!.resources[id].physicalId === input.PhysicalResourceId),
      );
      return { StackResources: ids.map((id) => resourceShape(s!, id)) };
    },

    ListStackResources(input: { StackName: string; NextToken?: string }, ctx: RequestContext) {
      const s = live(ctx, input.StackName);
      const { slice, next } = page(Object.keys(s.resources), input.NextToken, 100);
      return {
        StackResourceSummaries: slice.map((id) => {
          const r = resourceShape(s, id);
          return {
            LogicalResourceId: id,
            PhysicalResourceId: r.PhysicalResourceId,
            ResourceType: r.ResourceType,
            LastUpdatedTimestamp: r.LastUpdatedTimestamp,
            ResourceStatus: r.ResourceStatus,
            ResourceStatusReason: r.ResourceStatusReason,
            DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
          };
        }),
        NextToken: next,
      };
    },

    GetTemplate(input: { StackName?: string; ChangeSetName?: string; TemplateStage?: string }, ctx: RequestContext) {
      if (input.ChangeSetName) {
        const c = findChangeSet(ctx, input.ChangeSetName, input.StackName);
        return { TemplateBody: c.templateBody, StagesAvailable: ['Original', 'Processed'] };
      }
      if (!input.StackName) throw validationError('Either StackName or ChangeSetName must be specified.');
      const s = live(ctx, input.StackName);
      return { TemplateBody: s.templateBody, StagesAvailable: ['Original', 'Processed'] };
    },

    async ValidateTemplate(input: { TemplateBody?: string; TemplateURL?: string }, ctx: RequestContext) {
      const body = await templateText(input, ctx);
      const t = parseTemplate(body);
      topoOrder(Object.keys(t.Resources), dependencies(t));
      const { capabilities, reason } = neededCapabilities(t);
      return {
        Parameters: Object.entries(t.Parameters ?? {}).map(([k, p]) => ({
          ParameterKey: k,
          DefaultValue: p.Default === undefined ? undefined : String(p.Default),
          NoEcho: p.NoEcho === true || p.NoEcho === 'true',
          Description: p.Description,
        })),
        Description: t.Description,
        Capabilities: capabilities,
        CapabilitiesReason: reason,
        DeclaredTransforms: [],
      };
    },

    async GetTemplateSummary(
      input: { TemplateBody?: string; TemplateURL?: string; StackName?: string },
      ctx: RequestContext,
    ) {
      const body = input.StackName ? live(ctx, input.StackName).templateBody : await templateText(input, ctx);
      const t = parseTemplate(body);
      const { capabilities, reason } = neededCapabilities(t);
      return {
        Parameters: Object.entries(t.Parameters ?? {}).map(([k, p]) => ({
          ParameterKey: k,
          DefaultValue: p.Default === undefined ? undefined : String(p.Default),
          ParameterType: p.Type,
          NoEcho: p.NoEcho === true || p.NoEcho === 'true',
          Description: p.Description,
          ParameterConstraints: p.AllowedValues ? { AllowedValues: p.AllowedValues.map(String) } : {},
        })),
        Description: t.Description,
        Capabilities: capabilities,
        CapabilitiesReason: reason,
        ResourceTypes: [...new Set(Object.values(t.Resources).map((r) => r.Type))],
        Version: '2010-09-09',
        Metadata: t.Metadata ? JSON.stringify(t.Metadata) : undefined,
        DeclaredTransforms: [],
        ResourceIdentifierSummaries: [],
      };
    },

    async CreateChangeSet(input: Record<string, any>, ctx: RequestContext) {
      checkName(input.StackName);
      refuseUnsupported(input);
      const type = input.ChangeSetType ?? 'UPDATE';
      if (type === 'IMPORT') throw validationError('Change sets of type IMPORT are not supported by Eddy');
      if (!/^[a-zA-Z][-a-zA-Z0-9]*$/.test(input.ChangeSetName ?? ''))
        throw validationError(
          `1 validation error detected: Value '${input.ChangeSetName}' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`,
        );
      let s = find(ctx, input.StackName);
      if (s?.deletedAt !== undefined) s = undefined;
      if (type === 'CREATE') {
        if (s && s.status !== 'REVIEW_IN_PROGRESS') throw alreadyExists(input.StackName);
      } else if (!s) throw validationError(`Stack [${input.StackName}] does not exist`);
      else if (s.status === 'REVIEW_IN_PROGRESS') throw validationError(`Stack [${input.StackName}] does not exist`);
      if (s && store.changeSet(s.stackId, input.ChangeSetName))
        throw new AwsError('AlreadyExistsException', `ChangeSet ${input.ChangeSetName} already exists`, 400);
      const body = input.UsePreviousTemplate ? s!.templateBody : await templateText(input, ctx);
      const { dep, params } = await prepare(
        body,
        input.Parameters,
        input.Capabilities ?? s?.capabilities,
        s?.parameters,
        ctx,
        input.StackName,
      );
      if (!s) {
        s = newStack(ctx, input.StackName, input, 'REVIEW_IN_PROGRESS');
        s.templateBody = '';
        store.put(s);
        engine.stackStatus(s, 'REVIEW_IN_PROGRESS', 'User Initiated');
      }
      const changes = computeChanges(type === 'CREATE' ? undefined : s, dep, ctx, input.Tags ?? s.tags ?? []);
      const sameParams = deepEqual(
        params.map((p) => [p.ParameterKey, p.ParameterValue]),
        s.parameters.map((p) => [p.ParameterKey, p.ParameterValue]),
      );
      const noChanges = type === 'UPDATE' && !changes.length && body === s.templateBody && sameParams;
      const c: ChangeSetRecord = {
        id: `arn:aws:cloudformation:${ctx.region}:${ctx.accountId}:changeSet/${input.ChangeSetName}/${randomUUID()}`,
        name: input.ChangeSetName,
        stackId: s.stackId,
        stackName: s.stackName,
        accountId: ctx.accountId,
        region: ctx.region,
        type,
        status: noChanges ? 'FAILED' : 'CREATE_COMPLETE',
        statusReason: noChanges
          ? "The submitted information didn't contain changes. Submit different information to create a change set."
          : undefined,
        executionStatus: noChanges ? 'UNAVAILABLE' : 'AVAILABLE',
        createdAt: deps.clock.now(),
        description: input.Description,
        templateBody: body,
        parameters: params,
        givenParameters: input.Parameters ?? [],
        capabilities: input.Capabilities ?? [],
        tags: input.Tags,
        changes,
        notificationARNs: input.NotificationARNs ?? [],
      };
      store.putChangeSet(c);
      return { Id: c.id, StackId: s.stackId };
    },

    DescribeChangeSet(input: { ChangeSetName: string; StackName?: string; NextToken?: string }, ctx: RequestContext) {
      const c = findChangeSet(ctx, input.ChangeSetName, input.StackName);
      return {
        ChangeSetName: c.name,
        ChangeSetId: c.id,
        StackId: c.stackId,
        StackName: c.stackName,
        Description: c.description,
        Parameters: c.parameters.length ? shownParameters(c.parameters) : undefined,
        CreationTime: new Date(c.createdAt),
        ExecutionStatus: c.executionStatus,
        Status: c.status,
        StatusReason: c.statusReason,
        NotificationARNs: c.notificationARNs,
        RollbackConfiguration: {},
        Capabilities: c.capabilities,
        Tags: c.tags,
        Changes: c.changes,
        IncludeNestedStacks: false,
      };
    },

    ListChangeSets(input: { StackName: string }, ctx: RequestContext) {
      const s = live(ctx, input.StackName);
      return {
        Summaries: store.changeSets(s.stackId).map((c) => ({
          StackId: c.stackId,
          StackName: c.stackName,
          ChangeSetId: c.id,
          ChangeSetName: c.name,
          ExecutionStatus: c.executionStatus,
          Status: c.status,
          StatusReason: c.statusReason,
          CreationTime: new Date(c.createdAt),
          Description: c.description,
          IncludeNestedStacks: false,
        })),
      };
    },

    async ExecuteChangeSet(
      input: { ChangeSetName: string; StackName?: string; DisableRollback?: boolean },
      ctx: RequestContext,
    ) {
      const c = findChangeSet(ctx, input.ChangeSetName, input.StackName);
      const s = store.get(c.stackId)!;
      if (c.executionStatus !== 'AVAILABLE')
        throw new AwsError(
          'InvalidChangeSetStatus',
          `ChangeSet [${c.id}] cannot be executed in its current status of [${c.status}]`,
          400,
        );
      const { dep, params } = await prepare(
        c.templateBody,
        c.givenParameters,
        c.capabilities,
        s.parameters,
        ctx,
        s.stackName,
      );
      for (const other of store.changeSets(s.stackId)) {
        if (other.id === c.id) continue;
        store.deleteChangeSet(other);
      }
      c.executionStatus = 'EXECUTE_IN_PROGRESS';
      store.putChangeSet(c);
      s.changeSetId = c.id;
      if (input.DisableRollback !== undefined) s.disableRollback = input.DisableRollback;
      const finish = () => {
        const cur = store.get(s.stackId);
        c.executionStatus =
          cur && /(_COMPLETE)$/.test(cur.status) && !/ROLLBACK/.test(cur.status)
            ? 'EXECUTE_COMPLETE'
            : 'EXECUTE_FAILED';
        store.putChangeSet(c);
      };
      if (c.type === 'CREATE') {
        s.templateBody = c.templateBody;
        s.description = dep.template.Description;
        s.parameters = params;
        s.capabilities = c.capabilities;
        if (c.tags) s.tags = c.tags;
        s.notificationARNs = c.notificationARNs;
        s.status = 'CREATE_IN_PROGRESS';
        store.put(s);
        await engine.briefly(
          engine.schedule(s.stackId, async () => {
            await engine.create(s.stackId, dep);
            finish();
          }),
        );
      } else {
        if (!TERMINAL_OK.has(s.status))
          throw validationError(`Stack:${s.stackId} is in ${s.status} state and can not be updated.`);
        const previous = previousDeployment(s);
        s.parameters = params;
        s.capabilities = c.capabilities;
        if (c.tags) s.tags = c.tags;
        s.status = 'UPDATE_IN_PROGRESS';
        store.put(s);
        await engine.briefly(
          engine.schedule(s.stackId, async () => {
            await engine.update(s.stackId, dep, previous);
            finish();
          }),
        );
      }
      return {};
    },

    DeleteChangeSet(input: { ChangeSetName: string; StackName?: string }, ctx: RequestContext) {
      const c = findChangeSet(ctx, input.ChangeSetName, input.StackName);
      if (c.executionStatus === 'EXECUTE_IN_PROGRESS')
        throw validationError(`Cannot delete ChangeSet in status EXECUTE_IN_PROGRESS`);
      store.deleteChangeSet(c);
      const s = store.get(c.stackId);
      if (s && s.status === 'REVIEW_IN_PROGRESS' && !store.changeSets(s.stackId).length) store.remove(s);
      return {};
    },

    ListExports(input: { NextToken?: string }, ctx: RequestContext) {
      const { slice, next } = page(store.exports(ctx.accountId, ctx.region), input.NextToken, 100);
      return {
        Exports: slice.map((e) => ({ ExportingStackId: e.stackId, Name: e.name, Value: e.value })),
        NextToken: next,
      };
    },

    ListImports(input: { ExportName: string }, ctx: RequestContext) {
      if (!store.getExport(ctx.accountId, ctx.region, input.ExportName))
        throw validationError(`Export '${input.ExportName}' does not exist.`);
      const users = store
        .all(ctx.accountId, ctx.region)
        .filter((s) => s.deletedAt === undefined && (s.imports ?? []).includes(input.ExportName))
        .map((s) => s.stackName);
      return { Imports: users };
    },

    UpdateTerminationProtection(
      input: { StackName: string; EnableTerminationProtection: boolean },
      ctx: RequestContext,
    ) {
      const s = live(ctx, input.StackName);
      s.terminationProtection = input.EnableTerminationProtection;
      store.put(s);
      return { StackId: s.stackId };
    },

    CancelUpdateStack(input: { StackName: string }, ctx: RequestContext) {
      const s = live(ctx, input.StackName);
      throw validationError(`CancelUpdateStack cannot be called from current stack status ${s.status}.`);
    },
  };

  // The ResponseURL custom resources answer at.
  const routes = async (req: RawRequest): Promise<RawResponse | undefined> => {
    const m = /^\/_eddy\/cfn-response\/([0-9a-f]{32})$/.exec(req.path);
    if (!m) return undefined;
    if (req.method !== 'PUT')
      return { status: 405, headers: { 'content-type': 'text/plain' }, body: 'Method not allowed' };
    let body: Record<string, any>;
    try {
      body = JSON.parse(req.body.toString('utf8'));
    } catch {
      return { status: 400, headers: { 'content-type': 'text/plain' }, body: 'The response body is not JSON' };
    }
    const ok = engine.respond(m[1], {
      Status: body.Status,
      Reason: body.Reason,
      PhysicalResourceId: body.PhysicalResourceId,
      Data: body.Data,
      NoEcho: body.NoEcho,
    });
    return ok
      ? { status: 200, headers: { 'content-type': 'text/plain' }, body: '' }
      : {
          status: 404,
          headers: { 'content-type': 'text/plain' },
          body: 'No custom resource is waiting for this response',
        };
  };

  return {
    service: { model: 'cloudformation', operations, routes },
    connect(a) {
      aws = a;
    },
    stop() {},
  };
}

function checkParameter(key: string, p: NonNullable<Template['Parameters']>[string], value: string): void {
  if (p.AllowedValues && !p.AllowedValues.map(String).includes(value))
    throw validationError(`Parameter '${key}' must be one of AllowedValues`);
  if (p.AllowedPattern !== undefined && !new RegExp(`^(?:${p.AllowedPattern})$`).test(value))
    throw validationError(`Parameter '${key}' must match pattern ${p.AllowedPattern}`);
  if (p.MinLength !== undefined && value.length < Number(p.MinLength))
    throw validationError(`Parameter '${key}' must contain at least ${p.MinLength} characters`);
  if (p.MaxLength !== undefined && value.length > Number(p.MaxLength))
    throw validationError(`Parameter '${key}' must contain at most ${p.MaxLength} characters`);
  if (p.Type === 'Number' || p.MinValue !== undefined || p.MaxValue !== undefined) {
    const n = Number(value);
    if (p.Type === 'Number' && (value.trim() === '' || Number.isNaN(n)))
      throw validationError(`Parameter '${key}' must be a number.`);
    if (p.MinValue !== undefined && n < Number(p.MinValue))
      throw validationError(`Parameter '${key}' must be a number not less than ${p.MinValue}`);
    if (p.MaxValue !== undefined && n > Number(p.MaxValue))
      throw validationError(`Parameter '${key}' must be a number not greater than ${p.MaxValue}`);
  }
  if (p.Type === 'List<Number>' && value.split(',').some((x) => Number.isNaN(Number(x))))
    throw validationError(`Parameter '${key}' must be a number list.`);
  const known = /^(String|Number|List<Number>|CommaDelimitedList|AWS::[A-Za-z0-9:]+|List<AWS::[A-Za-z0-9:]+>)$/;
  if (!known.test(p.Type)) throw validationError(`Template format error: Unrecognized parameter type: ${p.Type}`);
}

/** Fn::GetAtt (and `${Res.Attr}` in Fn::Sub) must name an attribute the resource type has. */
function checkGetAtts(t: Template): void {
  const check = (id: unknown, attr: unknown) => {
    if (typeof id !== 'string' || typeof attr !== 'string') return;
    const r = t.Resources[id];
    if (!r || isCustomType(r.Type)) return;
    const attrs = SCHEMAS[r.Type]?.attributes;
    if (attrs?.length && !attrs.includes(attr))
      throw validationError(`Template error: resource ${id} does not support attribute type ${attr} in Fn::GetAtt`);
  };
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const a = o['Fn::GetAtt'];
      if (typeof a === 'string') check(a.slice(0, a.indexOf('.')), a.slice(a.indexOf('.') + 1));
      else if (Array.isArray(a)) check(a[0], a[1]);
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub') {
      const arg = o['Fn::Sub'];
      const [str, vars] = Array.isArray(arg) ? arg : [arg, undefined];
      if (typeof str === 'string')
        for (const m of str.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const name = m[1].trim();
          const dot = name.indexOf('.');
          if (dot > 0 && !(vars && typeof vars === 'object' && name in vars))
            check(name.slice(0, dot), name.slice(dot + 1));
        }
    }
    for (const x of Object.values(o)) visit(x);
  };
  visit(t.Resources);
  visit(t.Outputs);
}

function neededCapabilities(t: Template): { capabilities: string[]; reason?: string } {
  const types: string[] = [];
  let named = false;
  for (const r of Object.values(t.Resources)) {
    if (!(r.Type in IAM_TYPES)) continue;
    types.push(r.Type);
    const nameProp = IAM_TYPES[r.Type];
    if (nameProp && r.Properties?.[nameProp] !== undefined) named = true;
  }
  if (!types.length) return { capabilities: [] };
  return {
    capabilities: [named ? 'CAPABILITY_NAMED_IAM' : 'CAPABILITY_IAM'],
    reason: `The following resource(s) require capabilities: [${[...new Set(types)].join(', ')}]`,
  };
}

/** Bucket and key of an S3 object URL (path-style, virtual-hosted, or Eddy's own endpoint). */
export function s3Location(url: string): { bucket: string; key: string } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const path = decodeURIComponent(u.pathname.replace(/^\//, ''));
  const vh = /^(.+?)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$/.exec(u.hostname);
  if (vh) return path ? { bucket: vh[1], key: path } : undefined;
  const slash = path.indexOf('/');
  if (slash <= 0) return undefined;
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}
