/** CDK assertions on the message-notifications stack, plus a bundled synthesis checked by cfn-lint. */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type MessageNotificationsConfig, resolveConfig } from '../infra/lib/config.ts';
import { MessageNotificationsStack } from '../infra/lib/message-notifications-stack.ts';

function synth(input: Partial<Record<keyof MessageNotificationsConfig, unknown>> = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = resolveConfig({ notificationEmail: 'you@example.com', ...input });
  return Template.fromStack(new MessageNotificationsStack(app, 'MessageNotifications', { config }));
}

const t = synth();
type Statement = { Action: string | string[]; Effect: string; Resource: unknown };
const statements = (template: Template): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p: any) => p.Properties.PolicyDocument.Statement as Statement[],
  );
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('message-notifications stack', () => {
  it('has the messages table with its stream and the timestamp/author indexes', () => {
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'messages',
      KeySchema: [{ AttributeName: 'message_id', KeyType: 'HASH' }],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      SSESpecification: { SSEEnabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'timestamp-index',
          KeySchema: [{ AttributeName: 'timestamp', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'author-index',
          KeySchema: [
            { AttributeName: 'author', KeyType: 'HASH' },
            { AttributeName: 'timestamp', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('maps the stream to message-stream-processor with retries, bisect, partial failures and a DLQ', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MessagesTable'), 'StreamArn'] },
      BatchSize: 10,
      StartingPosition: 'LATEST',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StreamDeadLetterQueue'), 'Arn'] } },
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'message-stream-processor',
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          SNS_TOPIC_ARN: { Ref: Match.stringLikeRegexp('^NotificationTopic') },
          MESSAGES_TABLE: { Ref: Match.stringLikeRegexp('^MessagesTable') },
        }),
      },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/message-stream-processor',
      RetentionInDays: 14,
    });
    t.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'message-stream-processor-dlq',
      MessageRetentionPeriod: 14 * 86400,
      SqsManagedSseEnabled: true,
    });
  });

  it('takes its parameters from config', () => {
    const custom = synth({ batchSize: 50, parallelizationFactor: 3, maxRecordAgeSeconds: -1, lambdaMemory: 512 });
    custom.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 50,
      ParallelizationFactor: 3,
      MaximumRecordAgeInSeconds: Match.absent(),
    });
    custom.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512 });
    expect(() => resolveConfig({ maxRecordAgeSeconds: 30 })).toThrow(/maxRecordAgeSeconds/);
  });

  it('fans the topic out to email and an encrypted SQS queue', () => {
    t.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'message-notifications' });
    t.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'message-notifications-queue',
      SqsManagedSseEnabled: true,
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      TopicArn: { Ref: Match.stringLikeRegexp('^NotificationTopic') },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'you@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^NotificationTopic') },
    });
    // SNS may send to the queue, nobody else, and only over TLS.
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Principal: { Service: 'sns.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { Ref: Match.stringLikeRegexp('^NotificationTopic') } } },
          }),
        ]),
      },
    });
  });

  it('alarms on errors, failed records (EMF) and DLQ depth to the alarm topic', () => {
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms.map((a) => a.Properties.MetricName).sort()).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'Errors',
      'FailedEvents',
    ]);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
  });

  it('grants least privilege', () => {
    const st = statements(t);
    for (const s of st) {
      for (const a of actionsOf(s)) expect(a).not.toMatch(/^[a-z0-9]+:\*$|^\*$/);
      if (s.Resource === '*') expect(actionsOf(s)).toEqual(['dynamodb:ListStreams']);
    }
    const find = (action: string) => st.filter((s) => actionsOf(s).includes(action));
    expect(find('dynamodb:GetItem')).toEqual([
      {
        Action: 'dynamodb:GetItem',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^MessagesTable/), 'Arn'] },
      },
    ]);
    for (const a of ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem'])
      expect(find(a)).toEqual([]);
    expect(find('sns:Publish')).toEqual([
      expect.objectContaining({ Resource: { Ref: expect.stringMatching(/^NotificationTopic/) } }),
    ]);
    expect(find('logs:PutLogEvents')[0].Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^ProcessorLogGroup/), 'Arn'],
    });
    const roles = Object.values(t.findResources('AWS::IAM::Role')) as any[];
    expect(roles).toHaveLength(1);
    expect(roles[0].Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('tags resources with the seed project and environment', () => {
    for (const type of ['AWS::DynamoDB::Table', 'AWS::Lambda::Function', 'AWS::SQS::Queue', 'AWS::SNS::Topic']) {
      for (const r of Object.values(t.findResources(type)) as any[])
        expect(r.Properties.Tags, type).toEqual(
          expect.arrayContaining([
            { Key: 'Project', Value: 'dynamodb-streaming-triggers' },
            { Key: 'Environment', Value: 'learning' },
          ]),
        );
    }
  });

  it('outputs sns_topic_arn and sqs_queue_url equivalents', () => {
    expect(Object.keys(t.findOutputs('*'))).toEqual(
      expect.arrayContaining(['SnsTopicArn', 'SqsQueueUrl', 'TableName', 'DeadLetterQueueUrl', 'LogGroupName']),
    );
  });
});
