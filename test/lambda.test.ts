import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ListLayersCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../src/core/zip.ts';
import { type Eddy, startEddy } from '../src/index.ts';

let eddy: Eddy;
let lambda: LambdaClient;
let dir: string;
const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true });
  lambda = new LambdaClient({
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  dir = mkdtempSync(join(tmpdir(), 'eddy-lambda-test-'));
});
afterAll(async () => {
  lambda?.destroy();
  await eddy?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const zip = (files: Record<string, string>) => writeZip(Object.entries(files).map(([name, data]) => ({ name, data })));
const HELLO = zip({ 'index.js': "exports.handler = async (event) => ({ hello: event.name ?? 'world' });\n" });

describe('control plane', () => {
  it('creates, reads, lists, updates and deletes a function', async () => {
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'cp-hello',
        Runtime: 'nodejs22.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: HELLO },
      }),
    );
    expect(created.State).toBe('Pending');
    expect(created.FunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:cp-hello');
    expect(created.CodeSize).toBe(HELLO.length);
    expect(created.Timeout).toBe(3);
    expect(created.MemorySize).toBe(128);
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 5, minDelay: 0.1 } as any, {
      FunctionName: 'cp-hello',
    });
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'cp-hello' }));
    expect(got.Configuration?.State).toBe('Active');
    expect(got.Configuration?.LastUpdateStatus).toBe('Successful');
    expect(got.Code?.RepositoryType).toBe('S3');
    const zipRes = await fetch(got.Code!.Location!);
    expect(Buffer.from(await zipRes.arrayBuffer()).equals(HELLO)).toBe(true);

    const list = await lambda.send(new ListFunctionsCommand({}));
    expect(list.Functions?.map((f) => f.FunctionName)).toContain('cp-hello');

    const upd = await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'cp-hello',
        Timeout: 10,
        MemorySize: 256,
        Environment: { Variables: { AB: '1' } },
      }),
    );
    expect(upd.LastUpdateStatus).toBe('InProgress');
    const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'cp-hello' }));
    expect(cfg).toMatchObject({
      Timeout: 10,
      MemorySize: 256,
      Environment: { Variables: { AB: '1' } },
      LastUpdateStatus: 'Successful',
    });

    const code2 = zip({ 'index.js': 'exports.handler = async () => 2;\n' });
    const uc = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'cp-hello', ZipFile: code2 }));
    expect(uc.CodeSize).toBe(code2.length);
    expect(uc.CodeSha256).not.toBe(created.CodeSha256);

    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'cp-hello' }));
    await expect(lambda.send(new GetFunctionCommand({ FunctionName: 'cp-hello' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:cp-hello',
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('refuses deprecated runtimes, duplicates, Layers and bad zips as AWS does', async () => {
    await expect(
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'old',
          Runtime: 'nodejs12.x',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { ZipFile: HELLO },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message:
        'The runtime parameter of nodejs12.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.',
    });
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'dup',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: HELLO },
      }),
    );
    await expect(
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'dup',
          Runtime: 'nodejs20.x',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { ZipFile: HELLO },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ResourceConflictException',
      message: 'Function already exist: dup',
      $metadata: { httpStatusCode: 409 },
    });
    await expect(
      lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: 'dup',
          Layers: ['arn:aws:lambda:us-east-1:000000000000:layer:x:1'],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValueException', message: expect.stringContaining('Layers') });
    await expect(
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'badzip',
          Runtime: 'nodejs20.x',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { ZipFile: Buffer.from('nope') },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: expect.stringContaining('Could not unzip'),
    });
    await expect(
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'bad name!',
          Runtime: 'nodejs20.x',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { ZipFile: HELLO },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
  });

  it('refuses operations Eddy does not implement by name', async () => {
    await expect(lambda.send(new ListLayersCommand({}))).rejects.toMatchObject({
      name: 'NotImplemented',
      message: 'The Lambda operation ListLayers is not supported by Eddy yet (see docs/services/lambda.md)',
      $metadata: { httpStatusCode: 501 },
    });
  });

  it('runs code from a local directory (S3Bucket hot-reload)', async () => {
    writeFileSync(join(dir, 'index.js'), 'exports.handler = async () => 1;\n');
    const c = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'local-dir',
        Runtime: 'nodejs22.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { S3Bucket: 'hot-reload', S3Key: dir },
      }),
    );
    expect(c.FunctionName).toBe('local-dir');
    const call = async () =>
      JSON.parse(
        Buffer.from((await lambda.send(new InvokeCommand({ FunctionName: 'local-dir' }))).Payload!).toString(),
      );
    expect(await call()).toBe(1);
    // Edit the file: the warm environment is retired and the next invokes see the new code.
    writeFileSync(join(dir, 'index.js'), 'exports.handler = async () => 2;\n');
    let seen = await call();
    for (let i = 0; i < 100 && seen !== 2; i++) seen = await call();
    expect(seen).toBe(2);
  });

  it('reads the deployment package from S3 (S3Bucket/S3Key), as CDK assets arrive', async () => {
    const s3 = new S3Client({
      endpoint: eddy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'assets' }));
    const code = zip({ 'index.js': "exports.handler = async () => 'from-s3';\n" });
    await s3.send(new PutObjectCommand({ Bucket: 'assets', Key: 'fn.zip', Body: code }));
    const c = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'from-s3',
        Runtime: 'nodejs22.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { S3Bucket: 'assets', S3Key: 'fn.zip' },
      }),
    );
    expect(c.CodeSize).toBe(code.length);
    await expect(
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'no-key',
          Runtime: 'nodejs22.x',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { S3Bucket: 'assets', S3Key: 'missing.zip' },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message:
        'Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.',
    });
    await expect(lambda.send(new GetFunctionCommand({ FunctionName: 'no-key' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    s3.destroy();
  });
});
