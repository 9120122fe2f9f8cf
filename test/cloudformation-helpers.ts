import { EddyClient, members } from '../src/cli/deploy.ts';
import type { Eddy } from '../src/index.ts';

/** A signed CloudFormation query client plus waiting helpers for tests. */
export function cfnClient(eddy: Eddy) {
  const client = new EddyClient({
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    accessKeyId: 'test',
    secretAccessKey: 'test',
  });
  const call = (action: string, params: Record<string, string | undefined> = {}) => client.cfn(action, params);

  const describe = async (name: string) => members((await call('DescribeStacks', { StackName: name })).Stacks)[0];

  /** Poll until the stack leaves *_IN_PROGRESS (deployments take milliseconds). */
  const wait = async (name: string, timeoutMs = 20_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = await describe(name);
      if (!/_IN_PROGRESS$/.test(s.StackStatus) || s.StackStatus === 'REVIEW_IN_PROGRESS') return s;
      if (Date.now() > end) throw new Error(`timed out: ${name} is ${s.StackStatus}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const outputs = (s: any): Record<string, string> =>
    Object.fromEntries(members(s.Outputs).map((o: any) => [o.OutputKey, o.OutputValue]));

  const events = async (name: string) =>
    members((await call('DescribeStackEvents', { StackName: name })).StackEvents).map(
      (e: any) =>
        `${e.LogicalResourceId} ${e.ResourceStatus}${e.ResourceStatusReason ? ` ${e.ResourceStatusReason}` : ''}`,
    );

  const params = (p: Record<string, string>) => {
    const out: Record<string, string> = {};
    Object.entries(p).forEach(([k, v], i) => {
      out[`Parameters.member.${i + 1}.ParameterKey`] = k;
      out[`Parameters.member.${i + 1}.ParameterValue`] = v;
    });
    return out;
  };

  /** CreateStack (or UpdateStack) and wait; returns the final stack. */
  const deploy = async (
    action: 'CreateStack' | 'UpdateStack',
    name: string,
    template: unknown,
    p: Record<string, string> = {},
    extra: Record<string, string> = {},
  ) => {
    await call(action, {
      StackName: name,
      TemplateBody: typeof template === 'string' ? template : JSON.stringify(template),
      'Capabilities.member.1': 'CAPABILITY_IAM',
      ...params(p),
      ...extra,
    });
    return wait(name);
  };

  return { client, call, describe, wait, outputs, events, deploy, params };
}

/** The error a call fails with (code: message). */
export async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the call to fail');
}
