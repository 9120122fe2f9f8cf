import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetFunctionConfigurationCommand, LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { members } from '../src/cli/deploy.ts';
import { type Eddy, startEddy } from '../src/index.ts';
import { cfnClient } from './cloudformation-helpers.ts';

const run = promisify(execFile);
let hasCli = false;
try {
  execFileSync('aws', ['--version'], { stdio: 'ignore' });
  hasCli = true;
} catch {
  console.warn('SKIPPED: the AWS CLI (`aws`) is not installed; the CloudFormation CLI tests did not run.');
}

/** A template of the seed 000 shape: table + stream, function + mapping, topic + email, DLQ, role, logs, alarm. */
const SEED_TEMPLATE = `AWSTemplateFormatVersion: '2010-09-09'
Description: DynamoDB Streams processing (seed 000 shape)
Parameters:
  NotificationEmail:
    Type: String
    Description: Where alerts go
  LambdaMemorySize:
    Type: Number
    Default: 256
    MinValue: 128
    MaxValue: 10240
  LambdaTimeout:
    Type: Number
    Default: 60
  BatchSize:
    Type: Number
    Default: 10
  ParallelizationFactor:
    Type: Number
    Default: 1
Resources:
  UserActivityTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub '\${AWS::StackName}-UserActivities'
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: UserId, AttributeType: S}
        - {AttributeName: ActivityId, AttributeType: S}
      KeySchema:
        - {AttributeName: UserId, KeyType: HASH}
        - {AttributeName: ActivityId, KeyType: RANGE}
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      TimeToLiveSpecification: {AttributeName: ExpiresAt, Enabled: true}
  DeadLetterQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub '\${AWS::StackName}-dlq'
      MessageRetentionPeriod: 1209600
  NotificationTopic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: Stream notifications
      Subscription:
        - Protocol: email
          Endpoint: !Ref NotificationEmail
  ProcessorLogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub '/aws/lambda/\${AWS::StackName}-processor'
      RetentionInDays: 14
  ProcessorRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Sub 'arn:\${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole'
      Policies:
        - PolicyName: publish
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [sns:Publish, sqs:SendMessage]
                Resource: [!Ref NotificationTopic, !GetAtt DeadLetterQueue.Arn]
  ProcessorFunction:
    Type: AWS::Lambda::Function
    DependsOn: ProcessorLogGroup
    Properties:
      FunctionName: !Sub '\${AWS::StackName}-processor'
      Runtime: nodejs22.x
      Handler: index.handler
      Role: !GetAtt ProcessorRole.Arn
      MemorySize: !Ref LambdaMemorySize
      Timeout: !Ref LambdaTimeout
      Environment:
        Variables:
          TOPIC_ARN: !Ref NotificationTopic
      Code:
        ZipFile: |
          exports.handler = async (event) => {
            console.log(JSON.stringify({ records: event.Records.length }));
            return { batchItemFailures: [] };
          };
  StreamMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt UserActivityTable.StreamArn
      FunctionName: !Ref ProcessorFunction
      StartingPosition: LATEST
      BatchSize: !Ref BatchSize
      ParallelizationFactor: !Ref ParallelizationFactor
      MaximumRetryAttempts: 3
      BisectBatchOnFunctionError: true
      FunctionResponseTypes: [ReportBatchItemFailures]
      DestinationConfig:
        OnFailure:
          Destination: !GetAtt DeadLetterQueue.Arn
  ErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: Processor errors
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{Name: FunctionName, Value: !Ref ProcessorFunction}]
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions: [!Ref NotificationTopic]
Outputs:
  TableName:
    Value: !Ref UserActivityTable
  StreamArn:
    Value: !GetAtt UserActivityTable.StreamArn
  FunctionArn:
    Value: !GetAtt ProcessorFunction.Arn
  TopicArn:
    Value: !Ref NotificationTopic
  DeadLetterQueueUrl:
    Value: !Ref DeadLetterQueue
`;

let eddy: Eddy;
let dir: string;
let lambda: LambdaClient;
const aws = async (...args: string[]) => {
  const { stdout } = await run('aws', [...args, '--endpoint-url', eddy.endpoint, '--region', 'us-east-1'], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_PAGER: '' },
  });
  return stdout.trim();
};
const json = async (...args: string[]) => {
  const out = await aws(...args, '--output', 'json');
  return out ? JSON.parse(out) : undefined;
};

describe.skipIf(!hasCli)('aws cloudformation (CLI v1)', () => {
  beforeAll(async () => {
    eddy = await startEddy({ port: 0, memory: true });
    dir = mkdtempSync(join(tmpdir(), 'eddy-cfn-cli-'));
    writeFileSync(join(dir, 'cloudformation.yaml'), SEED_TEMPLATE);
    lambda = new LambdaClient({
      endpoint: eddy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });
  afterAll(async () => {
    lambda?.destroy();
    await eddy?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('create-stack --template-body file://… / wait stack-create-complete / describe-stacks --query Outputs', async () => {
    const created = await json(
      'cloudformation',
      'create-stack',
      '--stack-name',
      'dynamodb-streams-processing',
      '--template-body',
      `file://${join(dir, 'cloudformation.yaml')}`,
      '--parameters',
      'ParameterKey=NotificationEmail,ParameterValue=ops@example.com',
      '--capabilities',
      'CAPABILITY_IAM',
      '--tags',
      'Key=Environment,Value=Production',
      'Key=Project,Value=StreamProcessing',
    );
    expect(created.StackId).toMatch(
      /^arn:aws:cloudformation:us-east-1:000000000000:stack\/dynamodb-streams-processing\//,
    );
    await aws('cloudformation', 'wait', 'stack-create-complete', '--stack-name', 'dynamodb-streams-processing');
    const outputs = await json(
      'cloudformation',
      'describe-stacks',
      '--stack-name',
      'dynamodb-streams-processing',
      '--query',
      'Stacks[0].Outputs',
    );
    const byKey = Object.fromEntries(
      outputs.map((o: { OutputKey: string; OutputValue: string }) => [o.OutputKey, o.OutputValue]),
    );
    expect(byKey).toMatchObject({
      TableName: 'dynamodb-streams-processing-UserActivities',
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:dynamodb-streams-processing-processor',
      DeadLetterQueueUrl: `${eddy.endpoint}/000000000000/dynamodb-streams-processing-dlq`,
    });
    expect(byKey.StreamArn).toMatch(
      /^arn:aws:dynamodb:us-east-1:000000000000:table\/dynamodb-streams-processing-UserActivities\/stream\//,
    );
    // The rest is checked in process (each CLI start costs seconds on a loaded machine).
    const cfn = cfnClient(eddy);
    const stack = await cfn.describe('dynamodb-streams-processing');
    // Benchmark, not a timed assertion: how long the seed 000-sized deployment took inside Eddy.
    const times = members((await cfn.call('DescribeStackEvents', { StackName: stack.StackId })).StackEvents).map(
      (e: { Timestamp: string }) => Date.parse(e.Timestamp),
    );
    console.log(`seed 000-sized stack (8 resources) deployed in ${Math.max(...times) - Math.min(...times)} ms`);
    expect(members(stack.Tags)).toContainEqual({ Key: 'Project', Value: 'StreamProcessing' });
    const mappings = await lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: 'dynamodb-streams-processing-processor' }),
    );
    expect(mappings.EventSourceMappings?.[0]).toMatchObject({ BatchSize: 10, EventSourceArn: byKey.StreamArn });
    const resources = members(
      (await cfn.call('ListStackResources', { StackName: 'dynamodb-streams-processing' })).StackResourceSummaries,
    );
    expect(resources).toHaveLength(8);
    expect(resources.every((r: { ResourceStatus: string }) => r.ResourceStatus === 'CREATE_COMPLETE')).toBe(true);
  }, 90_000);

  it('deploy (change sets) updates in place; validate-template; delete-stack / wait stack-delete-complete', async () => {
    const out = await aws(
      'cloudformation',
      'deploy',
      '--stack-name',
      'dynamodb-streams-processing',
      '--template-file',
      join(dir, 'cloudformation.yaml'),
      '--capabilities',
      'CAPABILITY_IAM',
      '--parameter-overrides',
      'BatchSize=25',
      'LambdaMemorySize=512',
    );
    expect(out).toContain('Successfully created/updated stack - dynamodb-streams-processing');
    const mappings = await lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: 'dynamodb-streams-processing-processor' }),
    );
    expect(mappings.EventSourceMappings?.[0].BatchSize).toBe(25);
    const fn = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'dynamodb-streams-processing-processor' }),
    );
    expect(fn.MemorySize).toBe(512);

    const again = await aws(
      'cloudformation',
      'deploy',
      '--stack-name',
      'dynamodb-streams-processing',
      '--template-file',
      join(dir, 'cloudformation.yaml'),
      '--capabilities',
      'CAPABILITY_IAM',
      '--parameter-overrides',
      'BatchSize=25',
      'LambdaMemorySize=512',
      '--no-fail-on-empty-changeset',
    );
    expect(again).toContain('No changes to deploy');

    const v = await json(
      'cloudformation',
      'validate-template',
      '--template-body',
      `file://${join(dir, 'cloudformation.yaml')}`,
    );
    expect(v.Capabilities).toEqual(['CAPABILITY_IAM']);
    expect(v.Parameters.map((p: { ParameterKey: string }) => p.ParameterKey)).toContain('NotificationEmail');

    await aws('cloudformation', 'delete-stack', '--stack-name', 'dynamodb-streams-processing');
    await aws('cloudformation', 'wait', 'stack-delete-complete', '--stack-name', 'dynamodb-streams-processing');
    const tables = await json('dynamodb', 'list-tables');
    expect(tables.TableNames).not.toContain('dynamodb-streams-processing-UserActivities');
    const err = await aws('cloudformation', 'describe-stacks', '--stack-name', 'dynamodb-streams-processing').catch(
      (e: { stderr: string }) => e.stderr,
    );
    expect(err).toContain('Stack with id dynamodb-streams-processing does not exist');
  }, 120_000);
});
