/** CDK assertions on the change-capture stack: the seed's settings, least privilege, encryption, alarms, tags. */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ChangeCaptureStack } from '../infra/lib/change-capture-stack.ts';
import { type ChangeCaptureConfig, resolveConfig } from '../infra/lib/config.ts';

/** Synthesize without bundling the handler (bundling is covered by the cfn-lint test). */
function synth(input: Partial<Record<keyof ChangeCaptureConfig, unknown>> = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = resolveConfig({ notificationEmail: 'ops@example.com', ...input });
  const stack = new ChangeCaptureStack(app, 'ChangeCapture', { stackName: config.stackName, config });
  return Template.fromStack(stack);
}

const t = synth();

type Statement = { Action: string | string[]; Effect: string; Resource: unknown };
function statements(template: Template): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('change-capture stack', () => {
  it('has the user-activity table with a NEW_AND_OLD_IMAGES stream', () => {
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'UserId', KeyType: 'HASH' },
        { AttributeName: 'ActivityId', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'UserId', AttributeType: 'S' },
        { AttributeName: 'ActivityId', AttributeType: 'S' },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('maps the stream with the seed settings: batch 10, bisect, 3 retries, SQS on-failure, partial failures', () => {
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^UserActivityTable'), 'StreamArn'] },
      BatchSize: 10,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      ParallelizationFactor: 1,
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StreamDeadLetterQueue'), 'Arn'] } },
      },
    });
  });

  it('takes every customization parameter from config', () => {
    const custom = synth({
      lambdaMemory: 512,
      lambdaTimeout: 120,
      batchSize: '25',
      retryAttempts: 5,
      dlqRetentionDays: 7,
      parallelizationFactor: 4,
      startingPosition: 'LATEST',
      tableName: 'user-activity',
      functionName: 'stream-processor-prod',
    });
    custom.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 25,
      MaximumRetryAttempts: 5,
      ParallelizationFactor: 4,
      StartingPosition: 'LATEST',
    });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Timeout: 120,
      FunctionName: 'stream-processor-prod',
    });
    custom.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 7 * 86400 });
    custom.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'user-activity' });
    custom.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/lambda/stream-processor-prod' });
    // 80% of the timeout.
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', Threshold: 96_000 });
  });

  it('rejects out-of-range parameters', () => {
    expect(() => resolveConfig({ parallelizationFactor: 11 })).toThrow(/parallelizationFactor/);
    expect(() => resolveConfig({ dlqRetentionDays: 15 })).toThrow(/dlqRetentionDays/);
    expect(() => resolveConfig({ batchSize: 0 })).toThrow(/batchSize/);
    expect(() => resolveConfig({ startingPosition: 'AT_TIMESTAMP' })).toThrow(/startingPosition/);
    expect(() => resolveConfig({ notificationEmail: 'not-an-email' })).toThrow(/notificationEmail/);
  });

  it('runs the handler on nodejs22.x with 256 MB, 60 s and its own log group', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 60,
      FunctionName: 'stream-processor-dev',
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^ProcessorLogGroup') } },
      Environment: {
        Variables: Match.objectLike({
          TOPIC_ARN: { Ref: Match.stringLikeRegexp('^NotificationTopic') },
          AUDIT_BUCKET: { Ref: Match.stringLikeRegexp('^AuditBucket') },
          AUDIT_PREFIX: 'audit-logs',
        }),
      },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/stream-processor-dev',
      RetentionInDays: 30,
    });
  });

  it('keeps failed batches 14 days in an encrypted dead-letter queue', () => {
    t.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 86400, SqsManagedSseEnabled: true });
    const queues = Object.values(t.findResources('AWS::SQS::Queue')) as any[];
    expect(queues.length).toBe(2);
    for (const q of queues) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
  });

  it('encrypts, versions and locks down the audit bucket', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('subscribes email and SQS to the notification topic, email to the alarm topic', () => {
    t.resourceCountIs('AWS::SNS::Topic', 2);
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      TopicArn: { Ref: Match.stringLikeRegexp('^NotificationTopic') },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^NotificationTopic') },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^AlarmTopic') },
    });
    // No email given: no email subscriptions.
    synth({ notificationEmail: undefined }).resourcePropertiesCountIs(
      'AWS::SNS::Subscription',
      { Protocol: 'email' },
      0,
    );
  });

  it('alarms on Lambda errors, failed records (EMF), duration, iterator age, DLQ depth and table throttles, notifying the alarm topic', () => {
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[];
    const byMetric = Object.fromEntries(alarms.map((a) => [a.Properties.MetricName, a.Properties]));
    expect(Object.keys(byMetric).sort()).toEqual(
      [
        'ApproximateNumberOfMessagesVisible',
        'Duration',
        'Errors',
        'FailedEvents',
        'IteratorAge',
        'ReadThrottleEvents',
        'WriteThrottleEvents',
      ].sort(),
    );
    expect(byMetric.Errors).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 1 });
    expect(byMetric.Duration).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Maximum', Threshold: 48_000 });
    expect(byMetric.FailedEvents).toMatchObject({
      Namespace: 'ChangeCapture',
      Dimensions: [{ Name: 'service', Value: 'change-capture' }],
      Statistic: 'Sum',
      Period: 60,
    });
    expect(byMetric.ApproximateNumberOfMessagesVisible).toMatchObject({ Namespace: 'AWS/SQS', Threshold: 1 });
    expect(byMetric.WriteThrottleEvents).toMatchObject({ Namespace: 'AWS/DynamoDB', Threshold: 1 });
    for (const a of alarms) {
      expect(a.Properties.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      expect(a.Properties.TreatMissingData).toBe('notBreaching');
      expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
    }
  });

  it('grants least privilege: each action scoped to its one resource', () => {
    const st = statements(t);
    const find = (action: string) => st.filter((s) => actionsOf(s).includes(action));
    expect(st.every((s) => s.Effect === 'Allow')).toBe(true);
    // Nothing broad: no service wildcards, no Resource '*' except ListStreams (which AWS only grants on '*').
    for (const s of st) {
      for (const a of actionsOf(s)) expect(a).not.toMatch(/^[a-z0-9]+:\*$|^\*$/);
      if (s.Resource === '*') expect(actionsOf(s)).toEqual(['dynamodb:ListStreams']);
    }
    expect(find('sns:Publish')).toEqual([
      expect.objectContaining({ Resource: { Ref: expect.stringMatching(/^NotificationTopic/) } }),
    ]);
    const put = find('s3:PutObject');
    expect(put).toHaveLength(1);
    expect(actionsOf(put[0])).toEqual(['s3:PutObject']);
    expect(JSON.stringify(put[0].Resource)).toContain('/audit-logs/*');
    expect(find('dynamodb:GetRecords')[0].Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^UserActivityTable/), 'StreamArn'],
    });
    expect(find('sqs:SendMessage')[0].Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^StreamDeadLetterQueue/), 'Arn'],
    });
    expect(find('logs:PutLogEvents')[0].Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^ProcessorLogGroup/), 'Arn'],
    });
    // No read access to the audit log, no table data access, no managed policies with logs:* on '*'.
    expect(find('s3:GetObject')).toEqual([]);
    expect(find('dynamodb:GetItem')).toEqual([]);
    const roles = Object.values(t.findResources('AWS::IAM::Role')) as any[];
    expect(roles).toHaveLength(1);
    expect(roles[0].Properties.ManagedPolicyArns).toBeUndefined();
    expect(roles[0].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });

  it('tags every taggable resource', () => {
    for (const type of [
      'AWS::DynamoDB::Table',
      'AWS::Lambda::Function',
      'AWS::SQS::Queue',
      'AWS::SNS::Topic',
      'AWS::S3::Bucket',
      'AWS::IAM::Role',
      'AWS::Logs::LogGroup',
    ]) {
      const resources = Object.values(t.findResources(type)) as any[];
      expect(resources.length, type).toBeGreaterThan(0);
      for (const r of resources)
        expect(r.Properties.Tags, type).toEqual(
          expect.arrayContaining([
            { Key: 'Project', Value: 'StreamProcessing' },
            { Key: 'Environment', Value: 'dev' },
            { Key: 'Application', Value: 'change-capture' },
          ]),
        );
    }
  });

  it('outputs what the scenario scripts need', () => {
    const outputs = Object.keys(t.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining([
        'TableName',
        'FunctionName',
        'LogGroupName',
        'TopicArn',
        'NotificationQueueUrl',
        'DeadLetterQueueUrl',
        'AuditBucketName',
      ]),
    );
  });
});
