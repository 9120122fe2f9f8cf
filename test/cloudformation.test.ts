import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, ListTagsOfResourceCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetFunctionEventInvokeConfigCommand, GetPolicyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ListQueuesCommand, ListQueueTagsCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { members } from '../src/cli/deploy.ts';
import { type Eddy, startEddy, type VirtualClock } from '../src/index.ts';
import { cfnClient, failure } from './cloudformation-helpers.ts';

let eddy: Eddy;
let cfn: ReturnType<typeof cfnClient>;
let ddb: DynamoDBClient;
let sqs: SQSClient;
let lambdaClient: LambdaClient;

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true });
  cfn = cfnClient(eddy);
  const cfg = {
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  ddb = new DynamoDBClient(cfg);
  sqs = new SQSClient(cfg);
  lambdaClient = new LambdaClient(cfg);
});
afterAll(async () => {
  ddb?.destroy();
  sqs?.destroy();
  lambdaClient?.destroy();
  await eddy?.stop();
});

const table = (props: Record<string, unknown> = {}) => ({
  Type: 'AWS::DynamoDB::Table',
  Properties: {
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    ...props,
  },
});

describe('template engine', () => {
  it('evaluates parameters, mappings, conditions, intrinsics and pseudo parameters', async () => {
    const template = {
      Parameters: {
        Env: { Type: 'String', Default: 'dev', AllowedValues: ['dev', 'prod'] },
        Size: { Type: 'Number', Default: 3 },
        Names: { Type: 'CommaDelimitedList', Default: 'a,b,c' },
        Secret: { Type: 'String', NoEcho: true, Default: 'hush' },
      },
      Mappings: { ByEnv: { dev: { Retention: '60' }, prod: { Retention: '120' } } },
      Conditions: {
        IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
        NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
        Both: {
          'Fn::And': [{ Condition: 'NotProd' }, { 'Fn::Or': [{ 'Fn::Equals': ['1', '1'] }, { Condition: 'IsProd' }] }],
        },
      },
      Resources: {
        Queue: {
          Type: 'AWS::SQS::Queue',
          Properties: {
            MessageRetentionPeriod: { 'Fn::FindInMap': ['ByEnv', { Ref: 'Env' }, 'Retention'] },
            Tags: [{ Key: 'env', Value: { Ref: 'Env' } }],
          },
        },
        ProdOnly: { Type: 'AWS::SQS::Queue', Condition: 'IsProd' },
      },
      Outputs: {
        Sub: {
          Value: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax
            'Fn::Sub': '${AWS::StackName}/${AWS::Region}/${AWS::AccountId}/${AWS::Partition}/${AWS::URLSuffix}',
          },
        },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax
        SubVars: { Value: { 'Fn::Sub': ['${x}-${Queue.QueueName}-${!Literal}', { x: { Ref: 'Size' } }] } },
        Join: { Value: { 'Fn::Join': ['+', { Ref: 'Names' }] } },
        Select: { Value: { 'Fn::Select': ['1', { 'Fn::Split': [',', 'x,y,z'] }] } },
        Azs: { Value: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] } },
        B64: { Value: { 'Fn::Base64': 'hello' } },
        If: { Value: { 'Fn::If': ['IsProd', 'p', 'd'] } },
        Both: { Value: { 'Fn::If': ['Both', 'yes', 'no'] } },
        Arn: { Value: { 'Fn::GetAtt': ['Queue', 'Arn'] } },
        Url: { Value: { Ref: 'Queue' } },
        NoValue: { Value: { 'Fn::Join': [',', ['a', { Ref: 'AWS::NoValue' }, 'b']] } },
        Json: { Value: { 'Fn::ToJsonString': { a: [1, { Ref: 'Env' }] } } },
        ProdOut: { Condition: 'IsProd', Value: { Ref: 'ProdOnly' } },
      },
    };
    const s = await cfn.deploy('CreateStack', 'engine', template);
    expect(s.StackStatus).toBe('CREATE_COMPLETE');
    const o = cfn.outputs(s);
    expect(o.Sub).toBe('engine/us-east-1/000000000000/aws/amazonaws.com');
    expect(o.SubVars).toMatch(/^3-engine-Queue-[A-Z0-9]{12}-\$\{Literal\}$/);
    expect(o.Join).toBe('a+b+c');
    expect(o.Select).toBe('y');
    expect(o.Azs).toBe('us-east-1a');
    expect(o.B64).toBe(Buffer.from('hello').toString('base64'));
    expect(o.If).toBe('d');
    expect(o.Both).toBe('yes');
    expect(o.Arn).toMatch(/^arn:aws:sqs:us-east-1:000000000000:engine-Queue-/);
    expect(o.Url).toBe(`${eddy.endpoint}/000000000000/${o.Arn.split(':').pop()}`);
    expect(o.NoValue).toBe('a,b');
    expect(o.Json).toBe('{"a":[1,"dev"]}');
    expect(o.ProdOut).toBeUndefined();
    const params = Object.fromEntries(members(s.Parameters).map((p: any) => [p.ParameterKey, p.ParameterValue]));
    expect(params.Secret).toBe('****');
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: o.Url, AttributeNames: ['All'] }));
    expect(attrs.Attributes?.MessageRetentionPeriod).toBe('60');
    const resources = members((await cfn.call('ListStackResources', { StackName: 'engine' })).StackResourceSummaries);
    expect(resources.map((r: any) => r.LogicalResourceId)).toEqual(['Queue']);

    // Switching the condition on creates the conditional resource; its output appears.
    const u = await cfn.deploy('UpdateStack', 'engine', template, { Env: 'prod' });
    expect(u.StackStatus).toBe('UPDATE_COMPLETE');
    expect(cfn.outputs(u).ProdOut).toMatch(/engine-ProdOnly-/);
    const u2 = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: o.Url, AttributeNames: ['MessageRetentionPeriod'] }),
    );
    expect(u2.Attributes?.MessageRetentionPeriod).toBe('120');
    await cfn.call('DeleteStack', { StackName: 'engine' });
    expect((await cfn.wait(s.StackId)).StackStatus).toBe('DELETE_COMPLETE');
  });

  it('reads YAML with short-form intrinsics', async () => {
    const yaml = `AWSTemplateFormatVersion: 2010-09-09
Description: yaml short forms
Parameters:
  Prefix: {Type: String, Default: app}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub '\${Prefix}-\${AWS::StackName}'
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
Outputs:
  Name: {Value: !Ref Table}
  Arn:
    Value: !GetAtt Table.Arn
  Joined:
    Value: !Join ['-', [!Ref Prefix, !Select [1, !Split [',', 'a,b']]]]
    Export: {Name: !Sub '\${AWS::StackName}-joined'}
`;
    const s = await cfn.deploy('CreateStack', 'yaml', yaml);
    expect(s.StackStatus).toBe('CREATE_COMPLETE');
    expect(s.Description).toBe('yaml short forms');
    expect(cfn.outputs(s)).toMatchObject({ Name: 'app-yaml', Joined: 'app-b' });
    expect(cfn.outputs(s).Arn).toBe('arn:aws:dynamodb:us-east-1:000000000000:table/app-yaml');
    const tpl = await cfn.call('GetTemplate', { StackName: 'yaml' });
    expect(tpl.TemplateBody).toBe(yaml);
    const exports = members((await cfn.call('ListExports')).Exports);
    expect(exports).toContainEqual(expect.objectContaining({ Name: 'yaml-joined', Value: 'app-b' }));
    await cfn.call('DeleteStack', { StackName: 'yaml' });
    await cfn.wait(s.StackId);
  });

  it("reads TemplateURL from Eddy's S3 (path-style, virtual-hosted and Eddy URLs)", async () => {
    const s3 = new S3Client({
      endpoint: eddy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'templates' }));
      const body = JSON.stringify({
        Resources: { Q: { Type: 'AWS::SQS::Queue' } },
        Outputs: { U: { Value: { Ref: 'Q' } } },
      });
      await s3.send(new PutObjectCommand({ Bucket: 'templates', Key: 'dir/t.json', Body: body }));
      for (const [name, url] of [
        ['url-eddy', `${eddy.endpoint}/templates/dir/t.json`],
        ['url-vhost', 'https://templates.s3.us-east-1.amazonaws.com/dir/t.json'],
      ]) {
        await cfn.call('CreateStack', { StackName: name, TemplateURL: url });
        const st = await cfn.wait(name);
        expect(st.StackStatus).toBe('CREATE_COMPLETE');
        expect((await cfn.call('GetTemplate', { StackName: name })).TemplateBody).toBe(body);
        await cfn.call('DeleteStack', { StackName: name });
        await cfn.wait(st.StackId);
      }
      expect(
        await failure(
          cfn.call('CreateStack', { StackName: 'nourl', TemplateURL: `${eddy.endpoint}/templates/missing.json` }),
        ),
      ).toMatch(/^ValidationError: S3 error: Unable to get object missing.json from bucket templates/);
    } finally {
      s3.destroy();
    }
  });

  it('a DeleteStack during a create deletes the stack once the create ends', async () => {
    await cfn.call('CreateStack', { StackName: 'racy', TemplateBody: JSON.stringify({ Resources: { T: table() } }) });
    await cfn.call('DeleteStack', { StackName: 'racy' });
    const stacks = members((await cfn.call('ListStacks')).StackSummaries).filter((x: any) => x.StackName === 'racy');
    const final = await cfn.wait(stacks[0].StackId);
    expect(final.StackStatus).toBe('DELETE_COMPLETE');
  });

  it('refuses bad templates and parameters as CloudFormation does', async () => {
    const create = (t: unknown, p: Record<string, string> = {}, caps = true) =>
      failure(
        cfn.call('CreateStack', {
          StackName: 'bad',
          TemplateBody: typeof t === 'string' ? t : JSON.stringify(t),
          ...(caps ? { 'Capabilities.member.1': 'CAPABILITY_IAM' } : {}),
          ...cfn.params(p),
        }),
      );
    expect(await create({ Resources: {} })).toBe(
      'ValidationError: Template format error: At least one Resources member must be defined.',
    );
    expect(await create({ Resources: { A: { Type: 'AWS::SQS::Queue', DependsOn: 'Nope' } } })).toBe(
      'ValidationError: Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template',
    );
    expect(
      await create({
        Resources: {
          A: { Type: 'AWS::SQS::Queue', DependsOn: 'B' },
          B: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::GetAtt': ['A', 'QueueName'] } } },
        },
      }),
    ).toBe('ValidationError: Circular dependency between resources: [A, B]');
    const withParam = {
      Parameters: { Env: { Type: 'String', AllowedValues: ['a', 'b'] } },
      Resources: { Q: { Type: 'AWS::SQS::Queue' } },
    };
    expect(await create(withParam)).toBe('ValidationError: Parameters: [Env] must have values');
    expect(await create(withParam, { Env: 'c' })).toBe("ValidationError: Parameter 'Env' must be one of AllowedValues");
    expect(await create(withParam, { Env: 'a', Other: 'x' })).toBe(
      'ValidationError: Parameters: [Other] do not exist in the template',
    );
    expect(
      await create(
        { Resources: { R: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } } } },
        {},
        false,
      ),
    ).toBe('InsufficientCapabilitiesException: Requires capabilities : [CAPABILITY_IAM]');
    expect(
      await create({
        Resources: { R: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'x', AssumeRolePolicyDocument: {} } } },
      }),
    ).toBe('InsufficientCapabilitiesException: Requires capabilities : [CAPABILITY_NAMED_IAM]');
    expect(
      await create({
        Parameters: { P: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/my/param' } },
        Resources: { Q: { Type: 'AWS::SQS::Queue' } },
      }),
    ).toMatch(/AWS::SSM::Parameter::Value<String>, which is not supported by Eddy/);
    expect(
      await create({ Transform: 'AWS::Serverless-2016-10-31', Resources: { Q: { Type: 'AWS::SQS::Queue' } } }),
    ).toBe('ValidationError: Transform AWS::Serverless-2016-10-31 is not supported by Eddy');
    expect(await create('Resources: [unclosed')).toMatch(
      /^ValidationError: Template format error: YAML not well-formed/,
    );
    expect(
      await create({
        Resources: { Q: { Type: 'AWS::SQS::Queue' } },
        Outputs: { X: { Value: { 'Fn::GetAtt': ['Q', 'Nope'] } } },
      }),
    ).toBe('ValidationError: Template error: resource Q does not support attribute type Nope in Fn::GetAtt');
    const big = { Resources: { Q: { Type: 'AWS::SQS::Queue', Metadata: { pad: 'x'.repeat(52_000) } } } };
    expect(await create(big)).toMatch(
      /at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to 51200$/,
    );
    expect(await failure(cfn.call('DescribeStacks', { StackName: 'bad' }))).toBe(
      'ValidationError: Stack with id bad does not exist',
    );
  });
});

describe('stack lifecycle', () => {
  it('rolls back a failed create, leaving no half-made resources', async () => {
    const before = (await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
    const s = await cfn.deploy('CreateStack', 'fails', {
      Resources: {
        Q: { Type: 'AWS::SQS::Queue' },
        T: table(),
        K: { Type: 'AWS::EC2::VPC', DependsOn: ['Q', 'T'], Properties: { CidrBlock: '10.0.0.0/16' } },
      },
    });
    expect(s.StackStatus).toBe('ROLLBACK_COMPLETE');
    const events = await cfn.events('fails');
    expect(events).toContain(
      'fails ROLLBACK_IN_PROGRESS The following resource(s) failed to create: [K]. Rollback requested by user.',
    );
    expect(events).toContain('K CREATE_FAILED Resource type AWS::EC2::VPC is not supported by Eddy');
    expect(events).toContain('Q DELETE_COMPLETE');
    expect(events).toContain('T DELETE_COMPLETE');
    expect(events[0]).toBe('fails ROLLBACK_COMPLETE');
    expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? []).toEqual(before);
    // A stack in ROLLBACK_COMPLETE cannot be updated, only deleted.
    expect(await failure(cfn.call('UpdateStack', { StackName: 'fails', UsePreviousTemplate: 'true' }))).toMatch(
      /is in ROLLBACK_COMPLETE state and can not be updated/,
    );
    await cfn.call('DeleteStack', { StackName: 'fails' });
    expect((await cfn.wait(s.StackId)).StackStatus).toBe('DELETE_COMPLETE');
    const list = members(
      (await cfn.call('ListStacks', { 'StackStatusFilter.member.1': 'DELETE_COMPLETE' })).StackSummaries,
    );
    expect(list.map((x: any) => x.StackName)).toContain('fails');
  });

  it('refuses properties a resource type does not have (registry schema), and mirrors property attributes', async () => {
    const s = await cfn.deploy('CreateStack', 'typo', {
      Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimout: 5 } } },
    });
    expect(s.StackStatus).toBe('ROLLBACK_COMPLETE');
    expect(await cfn.events('typo')).toContain(
      'Q CREATE_FAILED Properties validation failed for resource Q with message: [#: extraneous key [VisibilityTimout] is not permitted]',
    );
    await cfn.call('DeleteStack', { StackName: 'typo' });
    const ok = await cfn.deploy('CreateStack', 'mirror', {
      Resources: { T: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: 'shown' } } },
      Outputs: { D: { Value: { 'Fn::GetAtt': ['T', 'DisplayName'] } } },
    });
    expect(cfn.outputs(ok).D).toBe('shown');
    await cfn.call('DeleteStack', { StackName: 'mirror' });
    await cfn.wait(ok.StackId);
  });

  it('propagates stack tags to the resources (their own tags win)', async () => {
    const s = await cfn.deploy(
      'CreateStack',
      'tagged',
      {
        Resources: {
          Q: { Type: 'AWS::SQS::Queue', Properties: { Tags: [{ Key: 'team', Value: 'own' }] } },
          T: table(),
        },
        Outputs: { Q: { Value: { Ref: 'Q' } }, T: { Value: { 'Fn::GetAtt': ['T', 'Arn'] } } },
      },
      {},
      {
        'Tags.member.1.Key': 'team',
        'Tags.member.1.Value': 'stack',
        'Tags.member.2.Key': 'env',
        'Tags.member.2.Value': 'dev',
      },
    );
    expect(s.StackStatus).toBe('CREATE_COMPLETE');
    const q = await sqs.send(new ListQueueTagsCommand({ QueueUrl: cfn.outputs(s).Q }));
    expect(q.Tags).toEqual({ team: 'own', env: 'dev' });
    const t = await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: cfn.outputs(s).T }));
    expect(t.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'team', Value: 'stack' },
        { Key: 'env', Value: 'dev' },
      ]),
    );
    await cfn.call('DeleteStack', { StackName: 'tagged' });
    await cfn.wait(s.StackId);
  });

  it('updates in place keeping data, replaces where AWS replaces, and rolls back a failed update', async () => {
    const v1 = {
      Resources: {
        Table: table({ StreamSpecification: { StreamViewType: 'NEW_IMAGE' } }),
        Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 30 } },
      },
      Outputs: { Table: { Value: { Ref: 'Table' } }, Stream: { Value: { 'Fn::GetAtt': ['Table', 'StreamArn'] } } },
    };
    const s1 = await cfn.deploy('CreateStack', 'upd', v1);
    expect(s1.StackStatus).toBe('CREATE_COMPLETE');
    const name = cfn.outputs(s1).Table;
    await ddb.send(new PutItemCommand({ TableName: name, Item: { pk: { S: 'k' }, v: { S: 'kept' } } }));

    // In place: a GSI, TTL, a new stream view type, queue attributes. The item survives.
    const v2 = structuredClone(v1) as any;
    v2.Resources.Table.Properties.AttributeDefinitions.push({ AttributeName: 'g', AttributeType: 'S' });
    v2.Resources.Table.Properties.GlobalSecondaryIndexes = [
      { IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
    ];
    v2.Resources.Table.Properties.TimeToLiveSpecification = { AttributeName: 'ttl', Enabled: true };
    v2.Resources.Table.Properties.StreamSpecification = { StreamViewType: 'NEW_AND_OLD_IMAGES' };
    v2.Resources.Queue.Properties.VisibilityTimeout = 45;
    const s2 = await cfn.deploy('UpdateStack', 'upd', v2);
    expect(s2.StackStatus).toBe('UPDATE_COMPLETE');
    expect(cfn.outputs(s2).Table).toBe(name);
    expect(cfn.outputs(s2).Stream).not.toBe(cfn.outputs(s1).Stream);
    const item = await ddb.send(new GetItemCommand({ TableName: name, Key: { pk: { S: 'k' } } }));
    expect(item.Item?.v?.S).toBe('kept');
    expect(await cfn.events('upd')).toContain('Table UPDATE_COMPLETE');

    // No change: refused as AWS refuses it.
    expect(await failure(cfn.deploy('UpdateStack', 'upd', v2))).toBe(
      'ValidationError: No updates are to be performed.',
    );

    // Replacement: a new key schema means a new table (generated name); the old one goes in cleanup.
    const v3 = structuredClone(v2) as any;
    v3.Resources.Table.Properties.AttributeDefinitions = [
      { AttributeName: 'id', AttributeType: 'S' },
      { AttributeName: 'g', AttributeType: 'S' },
    ];
    v3.Resources.Table.Properties.KeySchema = [{ AttributeName: 'id', KeyType: 'HASH' }];
    const s3 = await cfn.deploy('UpdateStack', 'upd', v3);
    expect(s3.StackStatus).toBe('UPDATE_COMPLETE');
    const name3 = cfn.outputs(s3).Table;
    expect(name3).not.toBe(name);
    expect(await failure(ddb.send(new GetItemCommand({ TableName: name, Key: { pk: { S: 'k' } } })))).toMatch(
      /Requested resource not found/,
    );
    const ev = await cfn.events('upd');
    expect(ev).toContain(
      'Table UPDATE_IN_PROGRESS Requested update requires the creation of a new physical resource; hence creating one.',
    );
    expect(ev.indexOf('upd UPDATE_COMPLETE_CLEANUP_IN_PROGRESS')).toBeGreaterThan(ev.indexOf('Table DELETE_COMPLETE'));

    // A failing update rolls back: the queue's attribute returns, the added resource goes.
    const v4 = structuredClone(v3) as any;
    v4.Resources.Queue.Properties.VisibilityTimeout = 99;
    v4.Resources.Extra = { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'upd-extra' } };
    v4.Resources.Broken = {
      Type: 'AWS::ECS::Cluster',
      DependsOn: ['Extra', 'Queue'],
      Properties: { ClusterName: 'upd-cluster' },
    };
    const s4 = await cfn.deploy('UpdateStack', 'upd', v4);
    expect(s4.StackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(s4.StackStatusReason).toBeUndefined();
    const queueUrl = members(
      (await cfn.call('DescribeStackResources', { StackName: 'upd', LogicalResourceId: 'Queue' })).StackResources,
    )[0].PhysicalResourceId;
    const qa = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['VisibilityTimeout'] }),
    );
    expect(qa.Attributes?.VisibilityTimeout).toBe('45');
    const queues = (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'upd-extra' }))).QueueUrls ?? [];
    expect(queues).toEqual([]);
    expect(await cfn.events('upd')).toContain(
      'Broken CREATE_FAILED Resource type AWS::ECS::Cluster is not supported by Eddy',
    );

    // Custom-named resources cannot be replaced.
    const v5 = structuredClone(v3) as any;
    v5.Resources.Named = table({ TableName: 'upd-named' });
    expect((await cfn.deploy('UpdateStack', 'upd', v5)).StackStatus).toBe('UPDATE_COMPLETE');
    const v6 = structuredClone(v5) as any;
    v6.Resources.Named.Properties.KeySchema = [{ AttributeName: 'id', KeyType: 'HASH' }];
    v6.Resources.Named.Properties.AttributeDefinitions = [{ AttributeName: 'id', AttributeType: 'N' }];
    const s6 = await cfn.deploy('UpdateStack', 'upd', v6);
    expect(s6.StackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect((await cfn.events('upd')).join('\n')).toContain(
      'CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename upd-named and update the stack again.',
    );
    await cfn.call('DeleteStack', { StackName: 'upd' });
    expect((await cfn.wait(s1.StackId)).StackStatus).toBe('DELETE_COMPLETE');
  });

  it('keeps Retain resources, guards imported exports, and resolves Fn::ImportValue', async () => {
    const producer = await cfn.deploy('CreateStack', 'producer', {
      Resources: {
        Kept: { Type: 'AWS::SQS::Queue', DeletionPolicy: 'Retain', Properties: { QueueName: 'retained-q' } },
      },
      Outputs: { Url: { Value: { Ref: 'Kept' }, Export: { Name: 'shared-url' } } },
    });
    expect(producer.StackStatus).toBe('CREATE_COMPLETE');
    const consumer = await cfn.deploy('CreateStack', 'consumer', {
      Resources: { Q: { Type: 'AWS::SQS::Queue' } },
      Outputs: { Imported: { Value: { 'Fn::ImportValue': 'shared-url' } } },
    });
    expect(cfn.outputs(consumer).Imported).toBe(cfn.outputs(producer).Url);
    expect(members((await cfn.call('ListImports', { ExportName: 'shared-url' })).Imports)).toEqual(['consumer']);
    // A second stack exporting the same name fails.
    const dup = await cfn.deploy('CreateStack', 'dup', {
      Resources: { Q: { Type: 'AWS::SQS::Queue' } },
      Outputs: { X: { Value: 'x', Export: { Name: 'shared-url' } } },
    });
    expect(dup.StackStatus).toBe('ROLLBACK_COMPLETE');
    expect((await cfn.events('dup')).join('\n')).toContain(
      'Export with name shared-url is already exported by stack producer',
    );
    // The exporting stack cannot go while another imports from it.
    await cfn.call('DeleteStack', { StackName: 'producer' });
    const blocked = await cfn.wait('producer');
    expect(blocked.StackStatus).toBe('DELETE_FAILED');
    expect(blocked.StackStatusReason).toBe('Export shared-url cannot be deleted as it is in use by consumer');
    await cfn.call('DeleteStack', { StackName: 'consumer' });
    await cfn.wait(consumer.StackId);
    await cfn.call('DeleteStack', { StackName: 'producer' });
    expect((await cfn.wait(producer.StackId)).StackStatus).toBe('DELETE_COMPLETE');
    expect(await cfn.events(producer.StackId)).toContain('Kept DELETE_SKIPPED');
    expect((await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'retained-q' }))).QueueUrls).toHaveLength(1);
    expect(members((await cfn.call('ListExports')).Exports).map((e: any) => e.Name)).not.toContain('shared-url');
  });

  it('change sets: CREATE (REVIEW_IN_PROGRESS), changes listed, execute, and an empty change set fails as AWS words it', async () => {
    const t1 = { Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: { DelaySeconds: 0 } } } };
    const created = await cfn.call('CreateChangeSet', {
      StackName: 'cs',
      ChangeSetName: 'first',
      ChangeSetType: 'CREATE',
      TemplateBody: JSON.stringify(t1),
    });
    expect((await cfn.describe('cs')).StackStatus).toBe('REVIEW_IN_PROGRESS');
    const d = await cfn.call('DescribeChangeSet', { ChangeSetName: created.Id });
    expect(d).toMatchObject({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', ChangeSetName: 'first' });
    expect(members(d.Changes)[0].ResourceChange).toMatchObject({
      Action: 'Add',
      LogicalResourceId: 'Q',
      ResourceType: 'AWS::SQS::Queue',
    });
    await cfn.call('ExecuteChangeSet', { ChangeSetName: 'first', StackName: 'cs' });
    const s = await cfn.wait('cs');
    expect(s.StackStatus).toBe('CREATE_COMPLETE');
    expect(s.ChangeSetId).toBe(created.Id);

    const t2 = {
      Resources: {
        Q: { Type: 'AWS::SQS::Queue', Properties: { DelaySeconds: 5, QueueName: 'cs-renamed' } },
        R: { Type: 'AWS::SNS::Topic' },
      },
    };
    await cfn.call('CreateChangeSet', { StackName: 'cs', ChangeSetName: 'second', TemplateBody: JSON.stringify(t2) });
    const d2 = await cfn.call('DescribeChangeSet', { StackName: 'cs', ChangeSetName: 'second' });
    const changes = members(d2.Changes).map((c: any) => c.ResourceChange);
    expect(changes).toContainEqual(
      expect.objectContaining({ Action: 'Modify', LogicalResourceId: 'Q', Replacement: 'True' }),
    );
    expect(changes).toContainEqual(expect.objectContaining({ Action: 'Add', LogicalResourceId: 'R' }));
    await cfn.call('DeleteChangeSet', { StackName: 'cs', ChangeSetName: 'second' });
    expect(await failure(cfn.call('DescribeChangeSet', { StackName: 'cs', ChangeSetName: 'second' }))).toBe(
      'ChangeSetNotFound: ChangeSet [second] does not exist',
    );

    await cfn.call('CreateChangeSet', { StackName: 'cs', ChangeSetName: 'same', TemplateBody: JSON.stringify(t1) });
    const d3 = await cfn.call('DescribeChangeSet', { StackName: 'cs', ChangeSetName: 'same' });
    expect(d3.Status).toBe('FAILED');
    expect(d3.StatusReason).toBe(
      "The submitted information didn't contain changes. Submit different information to create a change set.",
    );
    await cfn.call('DeleteStack', { StackName: 'cs' });
    await cfn.wait(s.StackId);
  });

  it('runs Lambda-backed custom resources answered at the ResponseURL (inline code with cfn-response)', async () => {
    const code = `const response = require('cfn-response');
exports.handler = async (event, context) => {
  const n = Number(event.ResourceProperties.N);
  if (event.RequestType === 'Delete') return response.send(event, context, response.SUCCESS, {});
  if (n < 0) return response.send(event, context, response.FAILED, {});
  await response.send(event, context, response.SUCCESS, { Double: String(n * 2), Type: event.RequestType }, 'custom-' + n);
};`;
    const template = (n: number) => ({
      Resources: {
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            AssumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
              ],
            },
          },
        },
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Runtime: 'nodejs22.x',
            Handler: 'index.handler',
            Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
            Code: { ZipFile: code },
          },
        },
        Calc: { Type: 'Custom::Calc', Properties: { ServiceToken: { 'Fn::GetAtt': ['Fn', 'Arn'] }, N: n } },
      },
      Outputs: {
        Double: { Value: { 'Fn::GetAtt': ['Calc', 'Double'] } },
        Type: { Value: { 'Fn::GetAtt': ['Calc', 'Type'] } },
        Id: { Value: { Ref: 'Calc' } },
      },
    });
    const s = await cfn.deploy('CreateStack', 'custom', template(21));
    expect(s.StackStatus, (await cfn.events('custom')).join('\n')).toBe('CREATE_COMPLETE');
    expect(cfn.outputs(s)).toEqual({ Double: '42', Type: 'Create', Id: 'custom-21' });
    const u = await cfn.deploy('UpdateStack', 'custom', template(5));
    expect(u.StackStatus).toBe('UPDATE_COMPLETE');
    expect(cfn.outputs(u)).toEqual({ Double: '10', Type: 'Update', Id: 'custom-5' });
    const f = await cfn.deploy('UpdateStack', 'custom', template(-1));
    expect(f.StackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect((await cfn.events('custom')).join('\n')).toContain(
      'Received response status [FAILED] from custom resource.',
    );
    await cfn.call('DeleteStack', { StackName: 'custom' });
    expect((await cfn.wait(s.StackId)).StackStatus).toBe('DELETE_COMPLETE');
  }, 30_000);
});

describe('Lambda configuration resources', () => {
  it('AWS::Lambda::Permission and AWS::Lambda::EventInvokeConfig go through Lambda', async () => {
    const s = await cfn.deploy('CreateStack', 'lambdacfg', {
      Resources: {
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            AssumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
              ],
            },
          },
        },
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Runtime: 'nodejs22.x',
            Handler: 'index.handler',
            Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
            Code: { ZipFile: 'exports.handler = async () => 1;' },
          },
        },
        Dlq: { Type: 'AWS::SQS::Queue' },
        Topic: { Type: 'AWS::SNS::Topic' },
        Allow: {
          Type: 'AWS::Lambda::Permission',
          Properties: {
            FunctionName: { 'Fn::GetAtt': ['Fn', 'Arn'] },
            Action: 'lambda:InvokeFunction',
            Principal: 'sns.amazonaws.com',
            SourceArn: { Ref: 'Topic' },
          },
        },
        Async: {
          Type: 'AWS::Lambda::EventInvokeConfig',
          Properties: {
            FunctionName: { Ref: 'Fn' },
            Qualifier: '$LATEST',
            MaximumRetryAttempts: 0,
            DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['Dlq', 'Arn'] } } },
          },
        },
      },
      Outputs: { Fn: { Value: { Ref: 'Fn' } } },
    });
    expect(s.StackStatus, (await cfn.events('lambdacfg')).join('\n')).toBe('CREATE_COMPLETE');
    const fn = cfn.outputs(s).Fn;
    const policy = await lambdaClient.send(new GetPolicyCommand({ FunctionName: fn }));
    expect(JSON.parse(policy.Policy ?? '{}').Statement[0]).toMatchObject({
      Principal: { Service: 'sns.amazonaws.com' },
    });
    const cfg = await lambdaClient.send(
      new GetFunctionEventInvokeConfigCommand({ FunctionName: fn, Qualifier: '$LATEST' }),
    );
    expect(cfg.MaximumRetryAttempts).toBe(0);
    await cfn.call('DeleteStack', { StackName: 'lambdacfg' });
    expect((await cfn.wait(s.StackId)).StackStatus).toBe('DELETE_COMPLETE');
  });
});

describe('durability', () => {
  it('stacks survive a restart and can be updated and deleted afterwards', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'eddy-cfn-durable-'));
    try {
      let e = await startEddy({ port: 0, dataDir });
      let c = cfnClient(e);
      const s = await c.deploy('CreateStack', 'durable', { Resources: { Q: { Type: 'AWS::SQS::Queue' } } });
      expect(s.StackStatus).toBe('CREATE_COMPLETE');
      await e.stop();
      e = await startEddy({ port: 0, dataDir });
      c = cfnClient(e);
      expect((await c.describe('durable')).StackStatus).toBe('CREATE_COMPLETE');
      const u = await c.deploy('UpdateStack', 'durable', {
        Resources: { Q: { Type: 'AWS::SQS::Queue' }, T: { Type: 'AWS::SNS::Topic' } },
      });
      expect(u.StackStatus).toBe('UPDATE_COMPLETE');
      await c.call('DeleteStack', { StackName: 'durable' });
      expect((await c.wait(s.StackId)).StackStatus).toBe('DELETE_COMPLETE');
      await e.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('virtual clock', () => {
  it('deploys without advancing time (operations start on the clock scheduler)', async () => {
    const v = await startEddy({ port: 0, memory: true, clock: 'virtual' });
    try {
      const c = cfnClient(v);
      const s = await c.deploy('CreateStack', 'virt', { Resources: { T: table(), Q: { Type: 'AWS::SQS::Queue' } } });
      expect(s.StackStatus).toBe('CREATE_COMPLETE');
      const events = members((await c.call('DescribeStackEvents', { StackName: 'virt' })).StackEvents);
      expect(new Set(events.map((e: any) => e.Timestamp)).size).toBe(1);
      await (v.clock as VirtualClock).advance(1000);
      await c.call('DeleteStack', { StackName: 'virt' });
      expect((await c.wait(s.StackId)).StackStatus).toBe('DELETE_COMPLETE');
    } finally {
      await v.stop();
    }
  });
});
