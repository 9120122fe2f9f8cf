import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../core/context.ts';
import type { ServiceImpl } from '../../gateway/service.ts';

/** STS: who am I (the CLI and CDK ask first) and role sessions for CDK's bootstrap roles. */
export function createStsService(): ServiceImpl {
  return {
    model: 'sts',
    operations: {
      GetCallerIdentity: (_input: unknown, ctx: RequestContext) => ({
        UserId: ctx.accessKeyId ?? 'AKIAIOSFODNN7EXAMPLE',
        Account: ctx.accountId,
        Arn: `arn:aws:iam::${ctx.accountId}:root`,
      }),
      AssumeRole: (
        input: { RoleArn: string; RoleSessionName: string; DurationSeconds?: number },
        ctx: RequestContext,
      ) => {
        const account = /^arn:aws:iam::(\d{12}):role\//.exec(input.RoleArn)?.[1] ?? ctx.accountId;
        const roleName = input.RoleArn.split('/').pop();
        const roleId = `AROA${randomBytes(8).toString('hex').toUpperCase()}`;
        return {
          Credentials: {
            // A 12-digit access key id keeps the role's account for later calls (see accountFromAccessKey).
            AccessKeyId: account,
            SecretAccessKey: randomBytes(20).toString('base64'),
            SessionToken: randomBytes(32).toString('base64'),
            Expiration: new Date(ctx.clock.now() + (input.DurationSeconds ?? 3600) * 1000),
          },
          AssumedRoleUser: {
            AssumedRoleId: `${roleId}:${input.RoleSessionName}`,
            Arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${input.RoleSessionName}`,
          },
        };
      },
    },
  };
}
