import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../core/context.ts';
import { AwsError } from '../../core/errors.ts';
import type { Storage } from '../../storage/types.ts';
import { conflict, invalidParam, preconditionFailed } from './errors.ts';
import { type FunctionRecord, type FunctionRepo, functionArn, isoTime, parseFunctionName } from './functions.ts';

/**
 * Resource policies (AddPermission / GetPolicy / RemovePermission), provisioned concurrency
 * configs and event invoke configs (asynchronous retries, maximum event age, destinations).
 * Stored on the function record. Eddy does not evaluate IAM: policies are kept and shown, not enforced.
 */

export interface EventInvokeConfig {
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig?: { OnSuccess?: { Destination?: string }; OnFailure?: { Destination?: string } };
  lastModified: number;
}

interface Extras {
  policies?: Record<string, { statements: Record<string, unknown>[]; revisionId: string }>;
  provisioned?: Record<string, { requested: number; lastModified: number }>;
  invokeConfigs?: Record<string, EventInvokeConfig>;
}

type Rec = FunctionRecord & Extras;

const notFoundResource = () =>
  new AwsError('ResourceNotFoundException', 'The resource you requested does not exist.', 404);

/** The event invoke config that applies to an invocation of `qualifier` (exact qualifier first, as AWS). */
export function invokeConfigFor(f: FunctionRecord, qualifier: string | undefined): EventInvokeConfig | undefined {
  return (f as Rec).invokeConfigs?.[qualifier ?? '$LATEST'];
}

function principalOf(p: string): unknown {
  if (p === '*') return '*';
  if (/^\d{12}$/.test(p)) return { AWS: `arn:aws:iam::${p}:root` };
  if (p.startsWith('arn:')) return { AWS: p };
  return { Service: p };
}

export function configOps(storage: Storage, repo: FunctionRepo) {
  const load = (name: string, ctx: RequestContext, qualifier?: string) => {
    const ref = parseFunctionName(name, ctx);
    const q = qualifier ?? ref.qualifier;
    const f = repo.require(ref, q) as Rec;
    if (q && q !== '$LATEST') repo.resolve(f, q);
    return { f, q };
  };
  const save = (f: Rec) => storage.tx(() => repo.put(f));

  const checkDestination = (d: string | undefined) => {
    if (d === undefined) return;
    if (!/^arn:aws[\w-]*:(sqs|sns|lambda|events|s3):/.test(d))
      throw invalidParam(`The provided destination config DestinationConfig.OnFailure.Destination is invalid.`);
  };

  const invokeConfigOut = (f: Rec, q: string | undefined, c: EventInvokeConfig) => ({
    LastModified: new Date(c.lastModified),
    FunctionArn: functionArn(f, q ?? '$LATEST'),
    MaximumRetryAttempts: c.MaximumRetryAttempts,
    MaximumEventAgeInSeconds: c.MaximumEventAgeInSeconds,
    DestinationConfig: {
      OnSuccess: c.DestinationConfig?.OnSuccess ?? {},
      OnFailure: c.DestinationConfig?.OnFailure ?? {},
    },
  });

  const putInvokeConfig = (input: Record<string, any>, ctx: RequestContext, merge: boolean) => {
    const { f, q } = load(input.FunctionName, ctx, input.Qualifier);
    const key = q ?? '$LATEST';
    f.invokeConfigs ??= {};
    const prev = f.invokeConfigs[key];
    if (merge && !prev)
      throw new AwsError(
        'ResourceNotFoundException',
        `The function ${functionArn(f, key)} doesn't have an EventInvokeConfig`,
        404,
      );
    checkDestination(input.DestinationConfig?.OnFailure?.Destination);
    checkDestination(input.DestinationConfig?.OnSuccess?.Destination);
    const base: EventInvokeConfig = merge && prev ? { ...prev } : { lastModified: 0 };
    if (input.MaximumRetryAttempts !== undefined) base.MaximumRetryAttempts = input.MaximumRetryAttempts;
    if (input.MaximumEventAgeInSeconds !== undefined) base.MaximumEventAgeInSeconds = input.MaximumEventAgeInSeconds;
    if (input.DestinationConfig !== undefined)
      base.DestinationConfig = { ...(merge ? base.DestinationConfig : {}), ...input.DestinationConfig };
    base.lastModified = ctx.clock.now();
    f.invokeConfigs[key] = base;
    save(f);
    return invokeConfigOut(f, q, base);
  };

  return {
    AddPermission(input: Record<string, any>, ctx: RequestContext) {
      const { f, q } = load(input.FunctionName, ctx, input.Qualifier);
      const key = q ?? '$LATEST';
      f.policies ??= {};
      const pol = (f.policies[key] ??= { statements: [], revisionId: randomUUID() });
      if (input.RevisionId && input.RevisionId !== pol.revisionId)
        throw preconditionFailed(
          'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id',
        );
      if (pol.statements.some((s) => s.Sid === input.StatementId)) {
        throw conflict(
          'The statement id (sid) provided already exists. Please provide a new statement id, or remove the existing statement.',
        );
      }
      if (input.FunctionUrlAuthType || input.InvokedViaFunctionUrl)
        throw invalidParam('Function URLs are not supported by Eddy yet (see docs/services/lambda.md).');
      const condition: Record<string, Record<string, string>> = {};
      if (input.SourceArn) condition.ArnLike = { 'AWS:SourceArn': input.SourceArn };
      if (input.SourceAccount) condition.StringEquals = { 'AWS:SourceAccount': input.SourceAccount };
      if (input.PrincipalOrgID)
        condition.StringEquals = { ...condition.StringEquals, 'aws:PrincipalOrgID': input.PrincipalOrgID };
      if (input.EventSourceToken)
        condition.StringEquals = { ...condition.StringEquals, 'lambda:EventSourceToken': input.EventSourceToken };
      const statement: Record<string, unknown> = {
        Sid: input.StatementId,
        Effect: 'Allow',
        Principal: principalOf(input.Principal),
        Action: input.Action,
        Resource: functionArn(f, q),
      };
      if (Object.keys(condition).length) statement.Condition = condition;
      pol.statements.push(statement);
      pol.revisionId = randomUUID();
      save(f);
      return { Statement: JSON.stringify(statement) };
    },
    GetPolicy(input: { FunctionName: string; Qualifier?: string }, ctx: RequestContext) {
      const { f, q } = load(input.FunctionName, ctx, input.Qualifier);
      const pol = f.policies?.[q ?? '$LATEST'];
      if (!pol?.statements.length) throw notFoundResource();
      return {
        Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: pol.statements }),
        RevisionId: pol.revisionId,
      };
    },
    RemovePermission(
      input: { FunctionName: string; StatementId: string; Qualifier?: string; RevisionId?: string },
      ctx: RequestContext,
    ) {
      const { f, q } = load(input.FunctionName, ctx, input.Qualifier);
      const pol = f.policies?.[q ?? '$LATEST'];
      if (pol && input.RevisionId && input.RevisionId !== pol.revisionId)
        throw preconditionFailed(
          'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id',
        );
      const i = pol ? pol.statements.findIndex((s) => s.Sid === input.StatementId) : -1;
      if (!pol || i < 0)
        throw new AwsError(
          'ResourceNotFoundException',
          `Statement ${input.StatementId} is not found in resource policy.`,
          404,
        );
      pol.statements.splice(i, 1);
      pol.revisionId = randomUUID();
      save(f);
      return undefined;
    },

    PutProvisionedConcurrencyConfig(
      input: { FunctionName: string; Qualifier: string; ProvisionedConcurrentExecutions: number },
      ctx: RequestContext,
    ) {
      const { f, q } = load(input.FunctionName, ctx, input.Qualifier);
      if (!q || q === '$LATEST')
        throw invalidParam('Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
      if (f.reservedConcurrency !== undefined && input.ProvisionedConcurrentExecutions > f.reservedConcurrency) {
        throw invalidParam(
          `Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function`,
        );
      }
      f.provisioned ??= {};
      f.provisioned[q] = { requested: input.ProvisionedConcurrentExecutions, lastModified: ctx.clock.now() };
      save(f);
      const n = input.ProvisionedConcurrentExecutions;
      return {
        RequestedProvisionedConcurrentExecutions: n,
        AvailableProvisionedConcurrentExecutions: n,
        AllocatedProvisionedConcurrentExecutions: n,
        Status: 'READY',
        LastModified: isoTime(ctx.clock.now()),
      };
    },
    GetProvisionedConcurrencyConfig(input: { FunctionName: string; Qualifier: string }, ctx: RequestContext) {
      const { f, q } = load(input.FunctionName, ctx, input.Qualifier);
      const p = q ? f.provisioned?.[q] : undefined;
      if (!p)
        throw new AwsError(
          'ProvisionedConcurrencyConfigNotFoundException',
          'No Provisioned Concurrency Config found for this function',
          404,
        );
      return {
        RequestedProvisionedConcurrentExecutions: p.requested,
        AvailableProvisionedConcurrentExecutions: p.requested,
        AllocatedProvisionedConcurrentExecutions: p.requested,
        Status: 'READY',
        LastModified: isoTime(p.lastModified),
      };
    },
    DeleteProvisionedConcurrencyConfig(input: { FunctionName: string; Qualifier: string }, ctx: RequestContext) {
      const { f, q } = load(input.FunctionName, ctx, input.Qualifier);
      if (!q || !f.provisioned?.[q])
        throw new AwsError(
          'ProvisionedConcurrencyConfigNotFoundException',
          'No Provisioned Concurrency Config found for this function',
          404,
        );
      delete f.provisioned[q];
      save(f);
      return undefined;
    },
    ListProvisionedConcurrencyConfigs(input: { FunctionName: string }, ctx: RequestContext) {
      const { f } = load(input.FunctionName, ctx);
      return {
        ProvisionedConcurrencyConfigs: Object.entries(f.provisioned ?? {}).map(([q, p]) => ({
          FunctionArn: functionArn(f, q),
          RequestedProvisionedConcurrentExecutions: p.requested,
          AvailableProvisionedConcurrentExecutions: p.requested,
          AllocatedProvisionedConcurrentExecutions: p.requested,
          Status: 'READY',
          LastModified: isoTime(p.lastModified),
        })),
      };
    },

    PutFunctionEventInvokeConfig: (input: Record<string, any>, ctx: RequestContext) =>
      putInvokeConfig(input, ctx, false),
    UpdateFunctionEventInvokeConfig: (input: Record<string, any>, ctx: RequestContext) =>
      putInvokeConfig(input, ctx, true),
    GetFunctionEventInvokeConfig(input: { FunctionName: string; Qualifier?: string }, ctx: RequestContext) {
      const { f, q } = load(input.FunctionName, ctx, input.Qualifier);
      const c = f.invokeConfigs?.[q ?? '$LATEST'];
      if (!c)
        throw new AwsError(
          'ResourceNotFoundException',
          `The function ${functionArn(f, q ?? '$LATEST')} doesn't have an EventInvokeConfig`,
          404,
        );
      return invokeConfigOut(f, q, c);
    },
    DeleteFunctionEventInvokeConfig(input: { FunctionName: string; Qualifier?: string }, ctx: RequestContext) {
      const { f, q } = load(input.FunctionName, ctx, input.Qualifier);
      const key = q ?? '$LATEST';
      if (!f.invokeConfigs?.[key])
        throw new AwsError(
          'ResourceNotFoundException',
          `The function ${functionArn(f, key)} doesn't have an EventInvokeConfig`,
          404,
        );
      delete f.invokeConfigs[key];
      save(f);
      return undefined;
    },
    ListFunctionEventInvokeConfigs(input: { FunctionName: string }, ctx: RequestContext) {
      const { f } = load(input.FunctionName, ctx);
      return {
        FunctionEventInvokeConfigs: Object.entries(f.invokeConfigs ?? {}).map(([q, c]) => invokeConfigOut(f, q, c)),
      };
    },
  };
}
