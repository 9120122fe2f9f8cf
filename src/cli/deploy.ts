import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { XMLParser } from 'fast-xml-parser';
import { zipDirectory } from '../core/zip.ts';

export const DEPLOY_HELP = `Usage: eddy deploy [dir] [options]

Deploy a CDK app to a running Eddy. <dir> is a synthesized cloud assembly (cdk.out: manifest.json,
templates, assets) or a CDK app directory (cdk.json), which is synthesized first by running its
"app" command, as \`cdk synth\` does. File assets (NodejsFunction bundles, Code.fromAsset) go to
Eddy's S3 bucket cdk-hnb659fds-assets-<account>-<region>, where Lambda reads them. Stacks deploy in
dependency order through CloudFormation change sets; their outputs are printed.

Options:
  --endpoint <url>        Eddy's endpoint (default $AWS_ENDPOINT_URL or http://127.0.0.1:4566)
  --region <name>         Region (default $AWS_REGION, $AWS_DEFAULT_REGION or us-east-1)
  --stack <name>          Deploy only this stack (repeatable; artifact id or stack name)
  --parameters <K=V>      Stack parameter (repeatable; Stack:K=V for one stack)
  --outputs-file <file>   Write the outputs as JSON ({ stackName: { key: value } }), like cdk deploy
  --context <k=v>         Context value for synthesis (repeatable)
  --json                  Print outputs as JSON
  -h, --help              Show this help
`;

export interface DeployOptions {
  /** A cloud assembly directory, or a CDK app directory with cdk.json. */
  dir: string;
  endpoint: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  stacks?: string[];
  parameters?: Record<string, string>;
  context?: Record<string, string>;
  log?: (line: string) => void;
  /** Poll interval while waiting (ms). */
  pollMs?: number;
}

export interface StackResult {
  stackName: string;
  stackId: string;
  status: string;
  outputs: Record<string, string>;
  noChanges: boolean;
}

// ---- a small signed client for the query protocol and S3 -------------------------------------------

const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: false });

export class EddyClient {
  readonly endpoint: string;
  readonly region: string;
  private readonly creds: { accessKeyId: string; secretAccessKey: string };
  constructor(opts: { endpoint: string; region?: string; accessKeyId?: string; secretAccessKey?: string }) {
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    this.region = opts.region ?? 'us-east-1';
    this.creds = {
      accessKeyId: opts.accessKeyId ?? process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: opts.secretAccessKey ?? process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    };
  }

  private async send(
    service: string,
    method: string,
    path: string,
    body: Buffer | string,
    headers: Record<string, string>,
  ) {
    const url = new URL(this.endpoint + path);
    const signer = new SignatureV4({ service, region: this.region, credentials: this.creds, sha256: Sha256 });
    const req = new HttpRequest({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      headers: { host: url.host, ...headers },
      body,
    });
    const signed = await signer.sign(req);
    const res = await fetch(url, {
      method,
      headers: signed.headers,
      body: method === 'GET' ? undefined : typeof body === 'string' ? body : new Uint8Array(body),
    });
    return { status: res.status, text: await res.text() };
  }

  /** One CloudFormation query call; returns the `<Action>Result` element as plain objects. */
  async cfn(action: string, params: Record<string, string | undefined> = {}): Promise<any> {
    const form = new URLSearchParams({ Action: action, Version: '2010-05-15' });
    for (const [k, v] of Object.entries(params)) if (v !== undefined) form.append(k, v);
    const res = await this.send('cloudformation', 'POST', '/', form.toString(), {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    });
    const doc = xml.parse(res.text);
    if (res.status >= 300) {
      const err = doc.ErrorResponse?.Error ?? {};
      const e = new Error(`${err.Code ?? res.status}: ${err.Message ?? res.text}`) as Error & { code?: string };
      e.code = err.Code;
      throw e;
    }
    return doc[`${action}Response`]?.[`${action}Result`] ?? {};
  }

  async putObject(bucket: string, key: string, body: Buffer): Promise<void> {
    const path = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const res = await this.send('s3', 'PUT', path, body, {
      'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
      'content-length': String(body.length),
    });
    if (res.status >= 300)
      throw new Error(`S3 PutObject s3://${bucket}/${key}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
  }

  async createBucket(bucket: string): Promise<void> {
    const body =
      this.region === 'us-east-1'
        ? ''
        : `<CreateBucketConfiguration><LocationConstraint>${this.region}</LocationConstraint></CreateBucketConfiguration>`;
    const res = await this.send('s3', 'PUT', `/${bucket}`, body, {
      'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
    });
    if (res.status >= 300 && !/BucketAlreadyOwnedByYou/.test(res.text))
      throw new Error(`S3 CreateBucket ${bucket}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
  }

  async services(): Promise<string[]> {
    const res = await fetch(`${this.endpoint}/_eddy/health`);
    if (!res.ok) return [];
    return ((await res.json()) as { services?: string[] }).services ?? [];
  }
}

/** A query-protocol list (`member` elements) as an array. */
export const members = <T = any>(v: any): T[] => {
  if (v === undefined || v === '' || v === null) return [];
  const m = v.member ?? v;
  return Array.isArray(m) ? m : [m];
};

// ---- the cloud assembly ---------------------------------------------------------------------------

interface StackArtifact {
  id: string;
  stackName: string;
  templateFile: string;
  dependencies: string[];
  tags: Record<string, string>;
  terminationProtection: boolean;
  assetManifest?: string;
}

function readAssembly(dir: string): StackArtifact[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const artifacts: Record<string, any> = manifest.artifacts ?? {};
  const stacks: StackArtifact[] = [];
  for (const [id, a] of Object.entries(artifacts)) {
    if (a.type === 'cdk:cloud-assembly' || a.type === 'aws:cloudformation:nested-stack')
      throw new Error(`Artifact ${id}: nested assemblies (stages) and nested stacks are not supported by eddy deploy`);
    if (a.type !== 'aws:cloudformation:stack') continue;
    const deps: string[] = a.dependencies ?? [];
    const assetManifest = deps.map((d) => artifacts[d]).find((x) => x?.type === 'cdk:asset-manifest')?.properties?.file;
    stacks.push({
      id,
      stackName: a.properties?.stackName ?? a.displayName ?? id,
      templateFile: a.properties.templateFile,
      dependencies: deps.filter((d) => artifacts[d]?.type === 'aws:cloudformation:stack'),
      tags: a.properties?.tags ?? {},
      terminationProtection: !!a.properties?.terminationProtection,
      assetManifest,
    });
  }
  // Dependencies first.
  const byId = new Map(stacks.map((s) => [s.id, s]));
  const out: StackArtifact[] = [];
  const seen = new Set<string>();
  const visit = (s: StackArtifact) => {
    if (seen.has(s.id)) return;
    seen.add(s.id);
    for (const d of s.dependencies) {
      const dep = byId.get(d);
      if (dep) visit(dep);
    }
    out.push(s);
  };
  for (const s of stacks) visit(s);
  return out;
}

/** Run the CDK app as `cdk synth` does (its "app" command with CDK_OUTDIR); returns the assembly directory. */
function synthesize(
  appDir: string,
  context: Record<string, string>,
  region: string,
  account: string,
  log: (s: string) => void,
): string {
  const cdkJson = JSON.parse(readFileSync(join(appDir, 'cdk.json'), 'utf8'));
  const app: string | undefined = cdkJson.app;
  if (!app) throw new Error(`${join(appDir, 'cdk.json')} has no "app" command`);
  const out = resolve(appDir, cdkJson.output ?? 'cdk.out');
  log(`Synthesizing ${appDir} (${app})`);
  const ctx = { ...(cdkJson.context ?? {}), ...context };
  const r = spawnSync(app, {
    cwd: appDir,
    shell: true,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      CDK_OUTDIR: out,
      CDK_CONTEXT_JSON: JSON.stringify(ctx),
      CDK_DEFAULT_REGION: region,
      CDK_DEFAULT_ACCOUNT: account,
    },
  });
  if (r.status !== 0) throw new Error(`Synthesis failed: \`${app}\` exited with ${r.status ?? r.signal}`);
  return out;
}

const substitute = (s: string, account: string, region: string) =>
  s.replace(/\$\{AWS::(AccountId|Region|Partition)\}/g, (_, n: string) =>
    n === 'AccountId' ? account : n === 'Region' ? region : 'aws',
  );

/** Upload a stack's file assets to Eddy's S3 where its template expects them. */
async function publishAssets(
  client: EddyClient,
  dir: string,
  manifestFile: string,
  account: string,
  log: (s: string) => void,
) {
  const m = JSON.parse(readFileSync(join(dir, manifestFile), 'utf8'));
  if (Object.keys(m.dockerImages ?? {}).length)
    throw new Error('Docker image assets (ECR) are not supported by Eddy; use file assets');
  const buckets = new Set<string>();
  for (const [hash, asset] of Object.entries<any>(m.files ?? {})) {
    const src = resolve(dir, asset.source.path);
    if (asset.source.executable)
      throw new Error(`Asset ${hash}: executable asset sources are not supported by eddy deploy`);
    const isDir = statSync(src).isDirectory();
    const body = isDir ? zipDirectory(src) : readFileSync(src);
    for (const d of Object.values<any>(asset.destinations ?? {})) {
      const bucket = substitute(d.bucketName, account, client.region);
      if (!buckets.has(bucket)) {
        await client.createBucket(bucket);
        buckets.add(bucket);
      }
      await client.putObject(bucket, d.objectKey, body);
    }
  }
  if (buckets.size) log(`Published assets to ${[...buckets].join(', ')}`);
}

const TERMINAL = /(_COMPLETE|_FAILED)$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function deployStack(
  client: EddyClient,
  s: StackArtifact,
  template: string,
  params: Record<string, string>,
  log: (l: string) => void,
  pollMs: number,
): Promise<StackResult> {
  let exists = false;
  try {
    const d = await client.cfn('DescribeStacks', { StackName: s.stackName });
    const st = members(d.Stacks)[0];
    exists = st && st.StackStatus !== 'REVIEW_IN_PROGRESS';
    if (st?.StackStatus === 'ROLLBACK_COMPLETE') {
      log(`${s.stackName}: deleting the stack left in ROLLBACK_COMPLETE by a failed create`);
      await client.cfn('DeleteStack', { StackName: s.stackName });
      await waitFor(client, st.StackId, pollMs);
      exists = false;
    }
  } catch (e) {
    if (!/does not exist/.test((e as Error).message)) throw e;
  }
  const name = `eddy-deploy-${Date.now()}`;
  const p: Record<string, string> = {
    StackName: s.stackName,
    ChangeSetName: name,
    ChangeSetType: exists ? 'UPDATE' : 'CREATE',
    ...(await templateParam(client, s, template)),
    'Capabilities.member.1': 'CAPABILITY_IAM',
    'Capabilities.member.2': 'CAPABILITY_NAMED_IAM',
    'Capabilities.member.3': 'CAPABILITY_AUTO_EXPAND',
  };
  Object.entries(params).forEach(([k, v], i) => {
    p[`Parameters.member.${i + 1}.ParameterKey`] = k;
    p[`Parameters.member.${i + 1}.ParameterValue`] = v;
  });
  Object.entries(s.tags).forEach(([k, v], i) => {
    p[`Tags.member.${i + 1}.Key`] = k;
    p[`Tags.member.${i + 1}.Value`] = v;
  });
  log(`${s.stackName}: ${exists ? 'updating' : 'creating'}`);
  const created = await client.cfn('CreateChangeSet', p);
  const cs = await client.cfn('DescribeChangeSet', { ChangeSetName: created.Id });
  if (cs.Status === 'FAILED') {
    await client.cfn('DeleteChangeSet', { ChangeSetName: created.Id });
    if (/didn't contain changes|No updates/.test(cs.StatusReason ?? '')) {
      log(`${s.stackName}: no changes`);
      const d = members((await client.cfn('DescribeStacks', { StackName: s.stackName })).Stacks)[0];
      return {
        stackName: s.stackName,
        stackId: d.StackId,
        status: d.StackStatus,
        outputs: outputsOf(d),
        noChanges: true,
      };
    }
    throw new Error(`${s.stackName}: change set failed: ${cs.StatusReason}`);
  }
  await client.cfn('ExecuteChangeSet', { ChangeSetName: created.Id });
  const d = await waitFor(client, created.StackId, pollMs);
  const ok = d.StackStatus === 'CREATE_COMPLETE' || d.StackStatus === 'UPDATE_COMPLETE';
  const events = members((await client.cfn('DescribeStackEvents', { StackName: created.StackId })).StackEvents);
  // This operation's events, oldest first (events come newest first; the operation starts at "User Initiated").
  const start = events.findIndex(
    (e: any) => e.LogicalResourceId === s.stackName && e.ResourceStatusReason === 'User Initiated',
  );
  for (const e of events.slice(0, start < 0 ? events.length : start + 1).reverse())
    log(
      `${s.stackName} | ${String(e.Timestamp).slice(11, 19)} | ${e.ResourceStatus.padEnd(20)} | ${e.ResourceType} | ${e.LogicalResourceId}${e.ResourceStatusReason && e.ResourceStatusReason !== 'User Initiated' ? ` ${e.ResourceStatusReason}` : ''}`,
    );
  if (!ok) {
    const failures = events
      .filter((e: any) => /FAILED$/.test(e.ResourceStatus) && e.ResourceStatusReason)
      .map((e: any) => `  ${e.LogicalResourceId} (${e.ResourceType}): ${e.ResourceStatusReason}`)
      .reverse();
    throw new Error(
      `${s.stackName}: ${d.StackStatus}${d.StackStatusReason ? ` (${d.StackStatusReason})` : ''}\n${failures.join('\n')}`,
    );
  }
  log(`${s.stackName}: ${d.StackStatus}`);
  return { stackName: s.stackName, stackId: d.StackId, status: d.StackStatus, outputs: outputsOf(d), noChanges: false };
}

/** Templates over CloudFormation's 51,200-byte body limit go through S3 (TemplateURL), as the CDK CLI does. */
async function templateParam(client: EddyClient, s: StackArtifact, template: string): Promise<Record<string, string>> {
  if (Buffer.byteLength(template) <= 51_200) return { TemplateBody: template };
  const bucket = `cdk-hnb659fds-assets-000000000000-${client.region}`;
  const key = `cdk-templates/${s.stackName}-${createHash('sha256').update(template).digest('hex')}.json`;
  await client.createBucket(bucket);
  await client.putObject(bucket, key, Buffer.from(template));
  return { TemplateURL: `${client.endpoint}/${bucket}/${key}` };
}

function outputsOf(stack: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of members(stack.Outputs)) out[o.OutputKey] = o.OutputValue;
  return out;
}

async function waitFor(client: EddyClient, stackId: string, pollMs: number): Promise<any> {
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    const d = members((await client.cfn('DescribeStacks', { StackName: stackId })).Stacks)[0];
    if (TERMINAL.test(d.StackStatus) && !d.StackStatus.endsWith('_IN_PROGRESS')) return d;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${stackId} (${d.StackStatus})`);
    await sleep(pollMs);
  }
}

/** Deploy every stack of a cloud assembly (or a CDK app, synthesized first) to a running Eddy. */
export async function deployAssembly(opts: DeployOptions): Promise<StackResult[]> {
  const log = opts.log ?? (() => {});
  const client = new EddyClient(opts);
  const account = '000000000000';
  let dir = resolve(opts.dir);
  if (!existsSync(join(dir, 'manifest.json'))) {
    if (existsSync(join(dir, 'cdk.json'))) dir = synthesize(dir, opts.context ?? {}, client.region, account, log);
    else throw new Error(`${dir} is neither a cloud assembly (manifest.json) nor a CDK app (cdk.json)`);
  }
  let stacks = readAssembly(dir);
  if (opts.stacks?.length) {
    const want = new Set(opts.stacks);
    stacks = stacks.filter((s) => want.has(s.id) || want.has(s.stackName));
    if (!stacks.length) throw new Error(`No stack named ${opts.stacks.join(', ')} in ${dir}`);
  }
  const hasS3 = (await client.services()).includes('s3');
  const results: StackResult[] = [];
  for (const s of stacks) {
    if (s.assetManifest) {
      if (!hasS3) throw new Error('This Eddy does not serve S3, which CDK file assets need');
      await publishAssets(client, dir, s.assetManifest, account, log);
    }
    const template = readFileSync(join(dir, s.templateFile), 'utf8');
    const params: Record<string, string> = {};
    const declared = Object.keys(JSON.parse(template).Parameters ?? {});
    for (const [k, v] of Object.entries(opts.parameters ?? {})) {
      const colon = k.indexOf(':');
      if (colon > 0) {
        if (k.slice(0, colon) === s.stackName || k.slice(0, colon) === s.id) params[k.slice(colon + 1)] = v;
      } else if (declared.includes(k)) params[k] = v;
    }
    results.push(await deployStack(client, s, template, params, log, opts.pollMs ?? 100));
  }
  return results;
}

/** `eddy deploy [dir]`. */
export async function deployCommand(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      endpoint: { type: 'string' },
      region: { type: 'string' },
      stack: { type: 'string', multiple: true },
      parameters: { type: 'string', multiple: true },
      context: { type: 'string', multiple: true, short: 'c' },
      'outputs-file': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    out(DEPLOY_HELP);
    return 0;
  }
  const kv = (list: string[] | undefined, flag: string) => {
    const o: Record<string, string> = {};
    for (const item of list ?? []) {
      const eq = item.indexOf('=');
      if (eq <= 0) {
        process.stderr.write(`eddy deploy: ${flag} expects KEY=VALUE, got '${item}'\n`);
        throw new Error('usage');
      }
      o[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return o;
  };
  let parameters: Record<string, string>;
  let context: Record<string, string>;
  try {
    parameters = kv(values.parameters, '--parameters');
    context = kv(values.context, '--context');
  } catch {
    return 2;
  }
  const dirArg = positionals[0] ?? (existsSync('cdk.json') ? '.' : 'cdk.out');
  const dir = isAbsolute(dirArg) ? dirArg : resolve(process.cwd(), dirArg);
  const endpoint = values.endpoint ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
  const region = values.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  let results: StackResult[];
  try {
    results = await deployAssembly({
      dir,
      endpoint,
      region,
      stacks: values.stack,
      parameters,
      context,
      log: (l) => process.stderr.write(`${l}\n`),
    });
  } catch (e) {
    const msg = (e as Error).message;
    process.stderr.write(
      /fetch failed|ECONNREFUSED/.test(msg)
        ? `eddy deploy: cannot reach Eddy at ${endpoint} (${msg}). Is \`eddy serve\` running?\n`
        : `eddy deploy: ${msg}\n`,
    );
    return 1;
  }
  const outputs = Object.fromEntries(results.map((r) => [r.stackName, r.outputs]));
  if (values['outputs-file']) writeFileSync(values['outputs-file'], `${JSON.stringify(outputs, null, 2)}\n`);
  if (values.json) out(`${JSON.stringify(outputs, null, 2)}\n`);
  else
    for (const r of results) {
      out(`\n✅ ${r.stackName}${r.noChanges ? ' (no changes)' : ''}\n`);
      const entries = Object.entries(r.outputs);
      if (entries.length) out('\nOutputs:\n');
      for (const [k, v] of entries) out(`${r.stackName}.${k} = ${v}\n`);
      out(`\nStack ARN:\n${r.stackId}\n`);
    }
  return 0;
}
