import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock, Timer } from '../../core/clock.ts';
import type { RequestContext } from '../../core/context.ts';
import { AwsError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { ResourceFailure } from './errors.ts';
import { evalCondition, resolve, type Scope } from './intrinsics.ts';
import { createOnlyOf, isCustomType, providerFor } from './providers/index.ts';
import type {
  CustomResourceRequest,
  CustomResourceResponse,
  Existing,
  ResourceContext,
  ResourceProvider,
} from './providers/types.ts';
import { changed, deepEqual } from './providers/types.ts';
import { SCHEMAS } from './schemas.generated.ts';
import type { ResourceState, StackOutput, StackRecord, StackStore } from './store.ts';
import { dependencies, parseTemplate, type Template, topoOrder } from './template.ts';

/** The in-process port CloudFormation calls other services through (implemented in integrations/aws-call). */
export interface AwsCallPort {
  call(service: string, operation: string, input: Record<string, unknown>, ctx: RequestContext): Promise<any>;
  has(service: string, operation?: string): boolean;
}

export interface EngineDeps {
  store: StackStore;
  clock: Clock;
  logger: Logger;
  aws: () => AwsCallPort | undefined;
}

/** How long (clock time) a custom resource may take to answer at its ResponseURL after its function returned. */
const CUSTOM_RESOURCE_GRACE_MS = 60_000;

const STACK_TYPE = 'AWS::CloudFormation::Stack';

/** How long an API call may wait for its (quick) operation to finish before answering (real clock only). */
const HOLD_MS = 2000;

/** What one deployment of a stack is working from. */
export interface Deployment {
  template: Template;
  templateBody: string;
  /** Parameter values by name (lists split). */
  values: Record<string, string | string[]>;
}

/**
 * Runs stack operations: creates, updates and deletes resources in dependency order through the
 * providers, records events and statuses as CloudFormation does, and rolls back on failure.
 * Operations run asynchronously after the API call returns, started on the clock's scheduler.
 */
export class Engine {
  private readonly pendingResponses = new Map<string, (r: CustomResourceResponse) => void>();
  /** Stacks whose DeleteStack arrived while another operation ran: deleted when it ends. */
  private readonly deleteRequests = new Set<string>();

  requestDelete(stackId: string): void {
    this.deleteRequests.add(stackId);
  }
  constructor(private readonly d: EngineDeps) {}

  /** Start an operation on the clock's scheduler (so virtual-clock tests progress without advancing). */
  schedule(stackId: string, run: () => Promise<void>): Promise<void> {
    return new Promise<void>((finished) => {
      this.d.clock.after(0, () => {
        run()
          .then(() => {
            const s = this.d.store.get(stackId);
            if (this.deleteRequests.delete(stackId) && s && !s.status.startsWith('DELETE'))
              void this.schedule(stackId, () => this.delete(stackId));
          })
          .catch((e) => {
            this.d.logger.error('cloudformation operation failed unexpectedly', {
              stackId,
              error: e instanceof Error ? (e.stack ?? e.message) : String(e),
            });
            const s = this.d.store.get(stackId);
            if (s?.status.endsWith('_IN_PROGRESS')) {
              this.stackStatus(
                s,
                interruptedStatus(s.status),
                `Internal error: ${e instanceof Error ? e.message : String(e)}`,
              );
            }
          })
          .finally(finished);
      });
    });
  }

  /**
   * Hold an API answer until its operation ends, at most `ms` of real time. The operation still runs
   * after the call (statuses and events as AWS records them); this only spares clients a poll that
   * sees *_IN_PROGRESS: the CLI's waiters sleep 30 s after such a poll. Never holds on a virtual clock.
   */
  async briefly(op: Promise<void>, ms = HOLD_MS): Promise<void> {
    if (this.d.clock.kind !== 'real') return;
    let timer: Timer | undefined;
    await Promise.race([op, new Promise<void>((r) => (timer = this.d.clock.after(ms, r)))]);
    timer?.cancel();
  }

  /** A custom resource's answer arrived at its ResponseURL. */
  respond(token: string, body: CustomResourceResponse): boolean {
    const r = this.pendingResponses.get(token);
    if (!r) return false;
    this.pendingResponses.delete(token);
    r(body);
    return true;
  }

  // ---- events and statuses ---------------------------------------------------------------------------

  event(
    s: StackRecord,
    logicalId: string,
    type: string,
    status: string,
    physicalId?: string,
    reason?: string,
    props?: unknown,
  ): void {
    s.eventSeq++;
    this.d.store.addEvent(
      {
        StackId: s.stackId,
        EventId: randomUUID(),
        StackName: s.stackName,
        LogicalResourceId: logicalId,
        PhysicalResourceId: physicalId ?? '',
        ResourceType: type,
        Timestamp: this.d.clock.now(),
        ResourceStatus: status,
        ResourceStatusReason: reason,
        ResourceProperties: props === undefined ? undefined : JSON.stringify(props),
      },
      s.eventSeq,
    );
  }

  stackStatus(s: StackRecord, status: string, reason?: string): void {
    s.status = status;
    s.statusReason = reason;
    this.d.store.tx(() => {
      this.event(s, s.stackName, STACK_TYPE, status, s.stackId, reason);
      this.d.store.put(s);
    });
  }

  private resourceStatus(s: StackRecord, r: ResourceState, status: string, reason?: string, props?: unknown): void {
    r.status = status;
    r.statusReason = reason;
    r.updatedAt = this.d.clock.now();
    s.resources[r.logicalId] = r;
    this.d.store.tx(() => {
      this.event(s, r.logicalId, r.type, status, r.physicalId, reason, props);
      this.d.store.put(s);
    });
  }

  // ---- scopes and contexts ---------------------------------------------------------------------------

  scope(s: StackRecord, dep: Deployment, imports?: Set<string>): Scope {
    return {
      template: dep.template,
      params: dep.values,
      pseudo: {
        accountId: s.accountId,
        region: s.region,
        stackName: s.stackName,
        stackId: s.stackId,
        notificationARNs: s.notificationARNs,
      },
      ref: (id) => {
        const r = s.resources[id];
        return r?.physicalId === undefined ? undefined : (r.ref ?? r.physicalId);
      },
      getAtt: (id, attr) => {
        const r = s.resources[id];
        if (!r || r.physicalId === undefined)
          throw new ResourceFailure(`Template error: resource ${id} is not available for Fn::GetAtt`);
        let v = r.attrs?.[attr];
        // Attributes the registry lists that mirror a property (SNS Topic DisplayName, SQS Queue DelaySeconds, ...).
        if (v === undefined && SCHEMAS[r.type]?.attributes.includes(attr))
          v = attr.split('.').reduce<any>((o, k) => (o == null ? undefined : o[k]), r.props);
        if (v === undefined) {
          if (isCustomType(r.type))
            throw new ResourceFailure(
              `CustomResource attribute error: Vendor response doesn't contain ${attr} attribute in object ${s.stackId}|${id}|${r.physicalId}`,
            );
          throw new ResourceFailure(
            `Template error: resource ${id} does not support attribute type ${attr} in Fn::GetAtt`,
          );
        }
        return v;
      },
      importValue: (name) => {
        const e = this.d.store.getExport(s.accountId, s.region, name);
        if (!e) throw new ResourceFailure(`No export named ${name} found.`);
        imports?.add(name);
        return e.value;
      },
    };
  }

  private context(s: StackRecord, logicalId: string, type: string): ResourceContext {
    const aws = this.d.aws();
    const reqCtx = (): RequestContext => ({
      requestId: randomUUID(),
      accountId: s.accountId,
      region: s.region,
      service: 'cloudformation',
      operation: '',
      clock: this.d.clock,
      endpoint: s.endpoint,
    });
    return {
      logicalId,
      type,
      stackName: s.stackName,
      stackId: s.stackId,
      accountId: s.accountId,
      region: s.region,
      endpoint: s.endpoint,
      clock: this.d.clock,
      call: async (service, operation, input) => {
        if (!aws) throw new ResourceFailure('Eddy services are not connected to CloudFormation');
        return aws.call(service, operation, input, reqCtx());
      },
      has: (service, operation) => !!aws?.has(service, operation),
      physicalName: ({ maxLength = 255, lower = false, suffix = '' } = {}) => {
        let rand = Array.from(randomBytes(12), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 36]).join('');
        let base = `${s.stackName}-${logicalId}`;
        if (lower) {
          base = base.toLowerCase().replace(/[^a-z0-9-]/g, '');
          rand = rand.toLowerCase();
        }
        const room = maxLength - suffix.length - rand.length - 1;
        if (base.length > room) base = base.slice(0, Math.max(1, room));
        return `${base}-${rand}${suffix}`;
      },
      sleep: (ms) => new Promise<void>((r) => void this.d.clock.after(ms, r)),
      customResource: (req) => this.invokeCustom(s, logicalId, req),
    };
  }

  private async invokeCustom(
    s: StackRecord,
    logicalId: string,
    req: CustomResourceRequest,
  ): Promise<CustomResourceResponse> {
    const token = req.ServiceToken;
    if (typeof token !== 'string' || !token)
      throw new ResourceFailure('Template error: ServiceToken is required for custom resources');
    const m = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)(?::.+)?$/.exec(token);
    if (!m) {
      if (/^arn:aws[a-z-]*:sns:/.test(token))
        throw new ResourceFailure(`Custom resources backed by SNS topics (${token}) are not supported by Eddy`);
      throw new ResourceFailure(`Invalid service token: ${token}`);
    }
    const aws = this.d.aws();
    if (!aws?.has('lambda', 'Invoke'))
      throw new ResourceFailure('Custom resources need Lambda, which this Eddy does not serve');
    const responseToken = randomBytes(16).toString('hex');
    const requestId = randomUUID();
    const event = {
      RequestType: req.RequestType,
      ServiceToken: token,
      ResponseURL: `${s.endpoint}/_eddy/cfn-response/${responseToken}`,
      StackId: s.stackId,
      RequestId: requestId,
      ResourceType: req.ResourceType,
      LogicalResourceId: logicalId,
      PhysicalResourceId: req.PhysicalResourceId,
      ResourceProperties: req.ResourceProperties,
      OldResourceProperties: req.OldResourceProperties,
    };
    const lambdaCtx = (): RequestContext => ({
      requestId: randomUUID(),
      accountId: s.accountId,
      region: s.region,
      service: 'lambda',
      operation: 'Invoke',
      clock: this.d.clock,
      endpoint: s.endpoint,
    });
    // The CDK's custom-resources Provider framework: its onEvent function answers over https to port
    // 443, so Eddy plays the framework itself and invokes the user's handler directly.
    const framework = await this.providerFramework(token, lambdaCtx);
    if (framework) return this.invokeFramework(framework, event, req, lambdaCtx);
    let answered: CustomResourceResponse | undefined;
    let wake: (() => void) | undefined;
    this.pendingResponses.set(responseToken, (r) => {
      answered = r;
      wake?.();
    });
    let timer: Timer | undefined;
    try {
      const out = await aws.call(
        'lambda',
        'Invoke',
        { FunctionName: token, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(event)) },
        {
          requestId: randomUUID(),
          accountId: s.accountId,
          region: s.region,
          service: 'lambda',
          operation: 'Invoke',
          clock: this.d.clock,
          endpoint: s.endpoint,
        },
      );
      if (!answered && out?.FunctionError) {
        let msg = '';
        try {
          msg = JSON.parse(Buffer.from(out.Payload ?? '').toString('utf8')).errorMessage ?? '';
        } catch {}
        throw new ResourceFailure(
          `Received response status [FAILED] from custom resource. Message returned: ${msg || out.FunctionError} (RequestId: ${requestId})`,
        );
      }
      if (!answered) {
        await new Promise<void>((resolveWait) => {
          wake = resolveWait;
          timer = this.d.clock.after(CUSTOM_RESOURCE_GRACE_MS, resolveWait);
        });
      }
    } finally {
      timer?.cancel();
      this.pendingResponses.delete(responseToken);
    }
    if (!answered)
      throw new ResourceFailure(
        `CloudFormation did not receive a response from your Custom Resource. Please check your logs for requestId [${requestId}]. If you are using the Python cfn-response module, you may need to update your Lambda function code so that CloudFormation can attach the updated version.`,
      );
    if (answered.Status !== 'SUCCESS')
      throw new ResourceFailure(
        `Received response status [FAILED] from custom resource. Message returned: ${answered.Reason ?? ''} (RequestId: ${requestId})`,
      );
    return answered;
  }

  /** The user handler behind a CDK Provider framework function, if the token is one. */
  private async providerFramework(
    token: string,
    ctx: () => RequestContext,
  ): Promise<{ onEvent: string; isComplete?: string } | undefined> {
    const aws = this.d.aws();
    try {
      const cfg = await aws!.call('lambda', 'GetFunctionConfiguration', { FunctionName: token }, ctx());
      const env = cfg?.Environment?.Variables ?? {};
      if (!env.USER_ON_EVENT_FUNCTION_ARN) return undefined;
      return { onEvent: env.USER_ON_EVENT_FUNCTION_ARN, isComplete: env.USER_IS_COMPLETE_FUNCTION_ARN };
    } catch {
      return undefined;
    }
  }

  private async invokeFramework(
    fw: { onEvent: string; isComplete?: string },
    event: Record<string, unknown>,
    req: CustomResourceRequest,
    ctx: () => RequestContext,
  ): Promise<CustomResourceResponse> {
    if (fw.isComplete)
      throw new ResourceFailure(
        'Custom resource providers with isCompleteHandler (a Step Functions waiter) are not supported by Eddy',
      );
    const aws = this.d.aws()!;
    const out = await aws.call(
      'lambda',
      'Invoke',
      { FunctionName: fw.onEvent, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(event)) },
      ctx(),
    );
    let result: any;
    try {
      const text = Buffer.from(out?.Payload ?? '').toString('utf8');
      result = text ? JSON.parse(text) : undefined;
    } catch {
      result = undefined;
    }
    if (out?.FunctionError)
      throw new ResourceFailure(
        `Received response status [FAILED] from custom resource. Message returned: ${result?.errorMessage ?? out.FunctionError}`,
      );
    const physicalId =
      result?.PhysicalResourceId ??
      req.PhysicalResourceId ??
      (req.RequestType === 'Create' ? event.RequestId : undefined);
    return { Status: 'SUCCESS', PhysicalResourceId: physicalId as string, Data: result?.Data, NoEcho: result?.NoEcho };
  }

  // ---- operations ----------------------------------------------------------------------------------

  private provider(type: string): ResourceProvider {
    const aws = this.d.aws();
    const p = providerFor(type, (svc, op) => !!aws?.has(svc, op));
    if (!p) throw new ResourceFailure(`Resource type ${type} is not supported by Eddy`);
    return p;
  }

  private resolveProps(
    decl: Template['Resources'][string],
    scope: Scope,
    provider: ResourceProvider,
    logicalId: string,
  ): Record<string, any> {
    const props = (resolve(decl.Properties ?? {}, scope) ?? {}) as Record<string, any>;
    const known = decl.Type === 'AWS::CDK::Metadata' ? undefined : SCHEMAS[decl.Type]?.properties;
    if (known?.length)
      for (const k of Object.keys(props))
        if (!known.includes(k))
          throw new ResourceFailure(
            `Properties validation failed for resource ${logicalId} with message: [#: extraneous key [${k}] is not permitted]`,
          );
    for (const k of provider.unsupported ?? [])
      if (props[k] !== undefined) throw new ResourceFailure(`Property ${k} of ${decl.Type} is not supported by Eddy`);
    return props;
  }

  /** Resources whose Condition holds, in dependency order. */
  private ordered(dep: Deployment, scope: Scope): string[] {
    const deps = dependencies(dep.template);
    const ids = Object.entries(dep.template.Resources)
      .filter(([, r]) => r.Condition === undefined || evalCondition(r.Condition, scope))
      .map(([id]) => id);
    return topoOrder(ids, deps);
  }

  private async createResource(s: StackRecord, dep: Deployment, scope: Scope, id: string): Promise<void> {
    const decl = dep.template.Resources[id];
    const r: ResourceState = {
      logicalId: id,
      type: decl.Type,
      status: 'CREATE_IN_PROGRESS',
      updatedAt: this.d.clock.now(),
      metadata: decl.Metadata,
      description: (decl as { Description?: string }).Description,
    };
    let props: Record<string, any> | undefined;
    try {
      const provider = this.provider(decl.Type);
      props = withStackTags(decl.Type, this.resolveProps(decl, scope, provider, id), s.tags);
      this.resourceStatus(s, r, 'CREATE_IN_PROGRESS', undefined, props);
      const made = await provider.create(props, this.context(s, id, decl.Type));
      r.physicalId = made.physicalId;
      r.ref = made.ref;
      r.attrs = made.attrs ?? {};
      r.props = props;
      this.resourceStatus(s, r, 'CREATE_IN_PROGRESS', 'Resource creation Initiated');
      this.resourceStatus(s, r, 'CREATE_COMPLETE');
    } catch (e) {
      this.resourceStatus(s, r, 'CREATE_FAILED', failureReason(e), props);
      throw new StepFailed(id);
    }
  }

  private async deleteResource(s: StackRecord, r: ResourceState, policy: string | undefined): Promise<void> {
    if (r.physicalId === undefined || r.status === 'DELETE_COMPLETE') {
      delete s.resources[r.logicalId];
      return;
    }
    if (policy === 'Retain' || policy === 'RetainExceptOnCreate') {
      this.resourceStatus(s, r, 'DELETE_SKIPPED');
      delete s.resources[r.logicalId];
      this.d.store.put(s);
      return;
    }
    this.resourceStatus(s, r, 'DELETE_IN_PROGRESS');
    try {
      const provider = this.provider(r.type);
      await provider.delete(existing(r), this.context(s, r.logicalId, r.type));
    } catch (e) {
      this.resourceStatus(s, r, 'DELETE_FAILED', failureReason(e));
      throw new StepFailed(r.logicalId);
    }
    this.resourceStatus(s, r, 'DELETE_COMPLETE');
    delete s.resources[r.logicalId];
    this.d.store.put(s);
  }

  /** Resources of a stack in reverse dependency order (by its template). */
  private deletionOrder(s: StackRecord, template: Template | undefined): ResourceState[] {
    const ids = Object.keys(s.resources);
    let order = ids;
    if (template) {
      try {
        const deps = dependencies(template);
        for (const id of ids) if (!deps.has(id)) deps.set(id, new Set());
        order = topoOrder(ids, deps);
      } catch {
        order = ids;
      }
    }
    return order.reverse().map((id) => s.resources[id]);
  }

  async create(stackId: string, dep: Deployment): Promise<void> {
    const s = this.d.store.get(stackId)!;
    this.stackStatus(s, 'CREATE_IN_PROGRESS', 'User Initiated');
    const imports = new Set<string>();
    const scope = this.scope(s, dep, imports);
    let failedReason: string | undefined;
    try {
      for (const id of this.ordered(dep, scope)) await this.createResource(s, dep, scope, id);
      s.outputs = this.outputs(s, dep, scope);
      this.publishExports(s, undefined);
    } catch (e) {
      failedReason =
        e instanceof StepFailed ? `The following resource(s) failed to create: [${e.logicalId}]. ` : failureReason(e);
    }
    if (failedReason === undefined) {
      s.imports = [...imports];
      this.stackStatus(s, 'CREATE_COMPLETE');
      return;
    }
    if (s.disableRollback || s.onFailure === 'DO_NOTHING') {
      this.stackStatus(s, 'CREATE_FAILED', failedReason);
      return;
    }
    this.stackStatus(s, 'ROLLBACK_IN_PROGRESS', `${failedReason}Rollback requested by user.`);
    const rolledBack = await this.deleteAll(s, dep.template, true);
    if (!rolledBack) {
      this.stackStatus(s, 'ROLLBACK_FAILED', 'The following resource(s) failed to delete during rollback.');
      return;
    }
    s.outputs = [];
    this.stackStatus(s, 'ROLLBACK_COMPLETE');
    if (s.onFailure === 'DELETE') await this.delete(stackId);
  }

  /** Delete every resource; true when all went. `rollback` ignores Retain for resources just created. */
  private async deleteAll(s: StackRecord, template: Template | undefined, rollback: boolean): Promise<boolean> {
    let ok = true;
    for (const r of this.deletionOrder(s, template)) {
      const decl = template?.Resources[r.logicalId];
      const policy = rollback && decl?.DeletionPolicy === 'RetainExceptOnCreate' ? undefined : decl?.DeletionPolicy;
      try {
        await this.deleteResource(s, r, rollback && r.status === 'CREATE_FAILED' ? undefined : policy);
      } catch (e) {
        if (!(e instanceof StepFailed)) throw e;
        ok = false;
      }
    }
    return ok;
  }

  async delete(stackId: string): Promise<void> {
    const s = this.d.store.get(stackId)!;
    this.stackStatus(s, 'DELETE_IN_PROGRESS', 'User Initiated');
    for (const o of s.outputs) {
      if (!o.ExportName) continue;
      const users = this.importers(s, o.ExportName);
      if (users.length) {
        this.stackStatus(
          s,
          'DELETE_FAILED',
          `Export ${o.ExportName} cannot be deleted as it is in use by ${users.join(', ')}`,
        );
        return;
      }
    }
    let template: Template | undefined;
    try {
      template = parseTemplate(s.templateBody);
    } catch {}
    const ok = await this.deleteAll(s, template, false);
    if (!ok) {
      const failed = Object.values(s.resources)
        .filter((r) => r.status === 'DELETE_FAILED')
        .map((r) => r.logicalId);
      this.stackStatus(s, 'DELETE_FAILED', `The following resource(s) failed to delete: [${failed.join(', ')}]. `);
      return;
    }
    this.d.store.tx(() => {
      for (const o of s.outputs) if (o.ExportName) this.d.store.deleteExport(s.accountId, s.region, o.ExportName);
    });
    s.deletedAt = this.d.clock.now();
    s.imports = [];
    this.stackStatus(s, 'DELETE_COMPLETE');
  }

  async update(stackId: string, dep: Deployment, previous: Deployment): Promise<void> {
    const s = this.d.store.get(stackId)!;
    const before: StackRecord = structuredClone(s);
    this.stackStatus(s, 'UPDATE_IN_PROGRESS', 'User Initiated');
    const imports = new Set<string>();
    const scope = this.scope(s, dep, imports);
    /** What changed, to undo on failure. */
    const done: { id: string; kind: 'created' | 'replaced' | 'updated'; prev?: ResourceState }[] = [];
    /** Physical resources to delete once the update succeeds. */
    const cleanup: { r: ResourceState; policy?: string }[] = [];
    let failedReason: string | undefined;
    let keep: Set<string> = new Set();
    try {
      const order = this.ordered(dep, scope);
      keep = new Set(order);
      for (const id of order) {
        const decl = dep.template.Resources[id];
        const old = s.resources[id];
        if (!old || old.physicalId === undefined) {
          await this.createResource(s, dep, scope, id);
          done.push({ id, kind: 'created' });
          continue;
        }
        const r: ResourceState = { ...old, metadata: decl.Metadata };
        let props: Record<string, any> | undefined;
        try {
          if (old.type !== decl.Type)
            throw new ResourceFailure(
              `Update of resource type is not permitted. The new template modifies resource type of resource ${id}.`,
            );
          const provider = this.provider(decl.Type);
          props = withStackTags(decl.Type, this.resolveProps(decl, scope, provider, id), s.tags);
          if (deepEqual(old.props, props)) continue;
          const diff = changed(old.props ?? {}, props);
          const createOnly = createOnlyOf(decl.Type, provider);
          const replace = !provider.update || [...createOnly].some((k) => diff.has(k));
          const ctx = this.context(s, id, decl.Type);
          if (replace) {
            const nameProp = provider.nameProperty;
            if (nameProp && props[nameProp] !== undefined && props[nameProp] === old.props?.[nameProp])
              throw new ResourceFailure(
                `CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename ${props[nameProp]} and update the stack again.`,
              );
            this.resourceStatus(
              s,
              r,
              'UPDATE_IN_PROGRESS',
              'Requested update requires the creation of a new physical resource; hence creating one.',
              props,
            );
            const made = await provider.create(props, ctx);
            Object.assign(r, { physicalId: made.physicalId, ref: made.ref, attrs: made.attrs ?? {}, props });
            this.resourceStatus(s, r, 'UPDATE_IN_PROGRESS', 'Resource creation Initiated');
            this.resourceStatus(s, r, 'UPDATE_COMPLETE');
            done.push({ id, kind: 'replaced', prev: old });
            cleanup.push({ r: old, policy: decl.UpdateReplacePolicy });
          } else {
            this.resourceStatus(s, r, 'UPDATE_IN_PROGRESS', undefined, props);
            const made = await provider.update!(props, existing(old), ctx);
            Object.assign(r, { physicalId: made.physicalId, ref: made.ref, attrs: made.attrs ?? old.attrs, props });
            this.resourceStatus(s, r, 'UPDATE_COMPLETE');
            done.push({ id, kind: 'updated', prev: old });
            // A custom resource that answered with a new physical id was replaced: the old one goes.
            if (made.physicalId !== old.physicalId) cleanup.push({ r: old, policy: decl.UpdateReplacePolicy });
          }
        } catch (e) {
          if (e instanceof StepFailed) throw e;
          this.resourceStatus(s, r, 'UPDATE_FAILED', failureReason(e), props);
          throw new StepFailed(id);
        }
      }
      const outputs = this.outputs(s, dep, scope);
      const prevOutputs = s.outputs;
      s.outputs = outputs;
      this.publishExports(s, prevOutputs);
    } catch (e) {
      failedReason =
        e instanceof StepFailed ? `The following resource(s) failed to update: [${e.logicalId}]. ` : failureReason(e);
    }
    if (failedReason !== undefined) {
      await this.rollbackUpdate(s, before, done, previous, failedReason);
      return;
    }
    s.templateBody = dep.templateBody;
    s.description = dep.template.Description;
    s.imports = [...imports];
    this.stackStatus(s, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
    const removedOrder = this.deletionOrder(
      { ...s, resources: Object.fromEntries(Object.entries(s.resources).filter(([id]) => !keep.has(id))) },
      previous.template,
    );
    for (const r of removedOrder) {
      try {
        await this.deleteResource(s, r, previous.template.Resources[r.logicalId]?.DeletionPolicy);
      } catch (e) {
        if (!(e instanceof StepFailed)) throw e;
        delete s.resources[r.logicalId];
      }
    }
    for (const { r, policy } of cleanup) {
      const ctx = this.context(s, r.logicalId, r.type);
      if (policy === 'Retain') continue;
      try {
        this.event(s, r.logicalId, r.type, 'DELETE_IN_PROGRESS', r.physicalId);
        await this.provider(r.type).delete(existing(r), ctx);
        this.event(s, r.logicalId, r.type, 'DELETE_COMPLETE', r.physicalId);
      } catch (e) {
        this.event(s, r.logicalId, r.type, 'DELETE_FAILED', r.physicalId, failureReason(e));
      }
      this.d.store.put(s);
    }
    s.updatedAt = this.d.clock.now();
    this.stackStatus(s, 'UPDATE_COMPLETE');
  }

  private async rollbackUpdate(
    s: StackRecord,
    before: StackRecord,
    done: { id: string; kind: 'created' | 'replaced' | 'updated'; prev?: ResourceState }[],
    previous: Deployment,
    reason: string,
  ): Promise<void> {
    this.stackStatus(s, 'UPDATE_ROLLBACK_IN_PROGRESS', reason);
    let ok = true;
    // A resource that failed to create during the update may have left nothing; drop its record.
    for (const r of Object.values(s.resources))
      if (r.status === 'CREATE_FAILED' && !before.resources[r.logicalId]) delete s.resources[r.logicalId];
    const prevScope = this.scope(before, previous);
    for (const step of [...done].reverse()) {
      const cur = s.resources[step.id];
      try {
        if (step.kind === 'created' || step.kind === 'replaced') {
          if (cur) await this.deleteResource(s, cur, undefined);
          if (step.prev) {
            s.resources[step.id] = { ...step.prev };
            this.resourceStatus(s, s.resources[step.id], 'UPDATE_COMPLETE');
          }
        } else if (step.prev && cur) {
          const decl = previous.template.Resources[step.id];
          const provider = this.provider(cur.type);
          const props = decl
            ? withStackTags(cur.type, this.resolveProps(decl, prevScope, provider, step.id), before.tags)
            : step.prev.props!;
          this.resourceStatus(s, cur, 'UPDATE_IN_PROGRESS');
          const made = await provider.update!(props, existing(cur), this.context(s, step.id, cur.type));
          Object.assign(cur, { physicalId: made.physicalId, ref: made.ref, attrs: made.attrs ?? cur.attrs, props });
          this.resourceStatus(s, cur, 'UPDATE_COMPLETE');
        }
      } catch (e) {
        ok = false;
        if (cur && !(e instanceof StepFailed)) this.resourceStatus(s, cur, 'UPDATE_FAILED', failureReason(e));
      }
    }
    // Resources that were untouched keep their state; everything else is as before the update.
    for (const [id, r] of Object.entries(before.resources)) if (!s.resources[id]) s.resources[id] = r;
    s.outputs = before.outputs;
    s.templateBody = before.templateBody;
    s.parameters = before.parameters;
    s.description = before.description;
    if (!ok) {
      this.stackStatus(s, 'UPDATE_ROLLBACK_FAILED', 'The following resource(s) failed to roll back.');
      return;
    }
    this.stackStatus(s, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    this.stackStatus(s, 'UPDATE_ROLLBACK_COMPLETE');
  }

  // ---- outputs and exports ---------------------------------------------------------------------------

  private outputs(s: StackRecord, dep: Deployment, scope: Scope): StackOutput[] {
    const out: StackOutput[] = [];
    for (const [key, o] of Object.entries(dep.template.Outputs ?? {})) {
      if (o.Condition !== undefined && !evalCondition(o.Condition, scope)) continue;
      const v = resolve(o.Value, scope);
      const value = Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);
      const exportName = o.Export ? String(resolve(o.Export.Name, scope)) : undefined;
      out.push({ OutputKey: key, OutputValue: value, Description: o.Description, ExportName: exportName });
    }
    void s;
    return out;
  }

  private importers(s: StackRecord, exportName: string): string[] {
    return this.d.store
      .all(s.accountId, s.region)
      .filter((o) => o.stackId !== s.stackId && o.deletedAt === undefined && (o.imports ?? []).includes(exportName))
      .map((o) => o.stackName);
  }

  private publishExports(s: StackRecord, prev: StackOutput[] | undefined): void {
    const next = new Map(s.outputs.filter((o) => o.ExportName).map((o) => [o.ExportName!, o.OutputValue]));
    for (const [name] of next) {
      const e = this.d.store.getExport(s.accountId, s.region, name);
      if (e && e.stackId !== s.stackId) {
        const owner = this.d.store.get(e.stackId);
        throw new ResourceFailure(
          `Export with name ${name} is already exported by stack ${owner?.stackName ?? e.stackId}`,
        );
      }
    }
    for (const o of prev ?? []) {
      if (!o.ExportName) continue;
      const users = this.importers(s, o.ExportName);
      if (!users.length) continue;
      if (!next.has(o.ExportName))
        throw new ResourceFailure(`Export ${o.ExportName} cannot be deleted as it is in use by ${users.join(', ')}`);
      if (next.get(o.ExportName) !== o.OutputValue)
        throw new ResourceFailure(`Export ${o.ExportName} cannot be updated as it is in use by ${users.join(', ')}`);
    }
    this.d.store.tx(() => {
      for (const o of prev ?? [])
        if (o.ExportName && !next.has(o.ExportName)) this.d.store.deleteExport(s.accountId, s.region, o.ExportName);
      for (const [name, value] of next)
        this.d.store.putExport(s.accountId, s.region, { name, value, stackId: s.stackId });
    });
  }
}

/** Stack tags propagate to every resource whose type has Tags (the resource's own tags win). */
export function withStackTags(
  type: string,
  props: Record<string, any>,
  tags: { Key: string; Value: string }[],
): Record<string, any> {
  if (!tags.length || !SCHEMAS[type]?.properties.includes('Tags')) return props;
  if (props.Tags !== undefined && !Array.isArray(props.Tags)) return props;
  const own: { Key: string; Value: string }[] = props.Tags ?? [];
  const added = tags.filter((t) => !own.some((o) => o.Key === t.Key));
  return added.length ? { ...props, Tags: [...own, ...added] } : props;
}

/** The terminal status a stack is left in when an operation stops half-way (a crash, an internal error). */
export function interruptedStatus(status: string): string {
  const table: Record<string, string> = {
    CREATE_IN_PROGRESS: 'CREATE_FAILED',
    ROLLBACK_IN_PROGRESS: 'ROLLBACK_FAILED',
    DELETE_IN_PROGRESS: 'DELETE_FAILED',
    UPDATE_IN_PROGRESS: 'UPDATE_ROLLBACK_FAILED',
    UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: 'UPDATE_COMPLETE',
    UPDATE_ROLLBACK_IN_PROGRESS: 'UPDATE_ROLLBACK_FAILED',
    UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS: 'UPDATE_ROLLBACK_COMPLETE',
  };
  return table[status] ?? status;
}

class StepFailed extends Error {
  constructor(readonly logicalId: string) {
    super(`resource ${logicalId} failed`);
  }
}

function existing(r: ResourceState): Existing {
  return { physicalId: r.physicalId!, ref: r.ref, attrs: r.attrs, props: r.props ?? {} };
}

/** A resource failure as CloudFormation words it: the handler's message, with the service's error code. */
export function failureReason(e: unknown): string {
  if (e instanceof ResourceFailure) return e.message;
  if (e instanceof AwsError) {
    if (e.code === 'ValidationError') return e.message;
    return `Resource handler returned message: "${e.message}" (Service: ${e.code}, Status Code: ${e.status}, HandlerErrorCode: ${handlerCode(e)})`;
  }
  return e instanceof Error ? e.message : String(e);
}

function handlerCode(e: AwsError): string {
  if (/AlreadyExists|InUse|Exist/.test(e.code)) return 'AlreadyExists';
  if (/NotFound|NoSuch/.test(e.code)) return 'NotFound';
  if (/Validation|Invalid/.test(e.code)) return 'InvalidRequest';
  return 'GeneralServiceException';
}
