/**
 * Where the scenario scripts point: Eddy by default (`AWS_ENDPOINT_URL`, else http://127.0.0.1:4566,
 * with local credentials when none are configured), AWS when `EDDY_TARGET=aws` (the SDK's own endpoint
 * and credential chain) or when AWS_ENDPOINT_URL names an amazonaws.com endpoint.
 *
 * Resource names come, in order, from environment variables, from `infra/cdk-outputs.json`
 * (`cdk deploy --outputs-file cdk-outputs.json`), from the stack's outputs (CloudFormation
 * DescribeStacks), and finally from the seed's fixed names.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

export interface Target {
  kind: 'eddy' | 'aws';
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function resolveTarget(env: NodeJS.ProcessEnv = process.env): Target {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const explicit = env.AWS_ENDPOINT_URL;
  if (env.EDDY_TARGET === 'aws' || (explicit && /\.amazonaws\.com(\.cn)?(:\d+)?\/?$/.test(explicit)))
    return { kind: 'aws', region, endpoint: explicit || undefined };
  const endpoint = explicit || 'http://127.0.0.1:4566';
  const credentials =
    env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE ? undefined : { accessKeyId: 'test', secretAccessKey: 'test' };
  return { kind: 'eddy', region, endpoint, credentials };
}

/** Options for any SDK v3 client constructor. */
export function clientConfig(t: Target) {
  return {
    region: t.region,
    ...(t.endpoint ? { endpoint: t.endpoint } : {}),
    ...(t.credentials ? { credentials: t.credentials } : {}),
  };
}

/**
 * Outputs of the deployed stack: `<pipelineDir>/infra/cdk-outputs.json` if there is one, else
 * DescribeStacks; {} if neither.
 */
export async function stackOutputs(
  t: Target,
  stackName: string,
  pipelineDir = process.cwd(),
): Promise<Record<string, string>> {
  const file = join(pipelineDir, 'infra', 'cdk-outputs.json');
  if (existsSync(file)) {
    const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
    if (all[stackName]) return all[stackName];
  }
  const cfn = new CloudFormationClient(clientConfig(t));
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs: Record<string, string> = {};
    for (const o of out.Stacks?.[0]?.Outputs ?? [])
      if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] = o.OutputValue;
    return outputs;
  } catch {
    return {};
  } finally {
    cfn.destroy();
  }
}

export function describeTarget(t: Target): string {
  return t.kind === 'eddy' ? `Eddy at ${t.endpoint}` : `AWS (${t.region}${t.endpoint ? `, ${t.endpoint}` : ''})`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when this module is the script node was started with. */
export function isMain(metaUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(metaUrl) === process.argv[1];
}
