/**
 * The message-notification system (seed 002): the `messages` table (message_id, with `timestamp-index`
 * and `author-index`) streaming NEW_AND_OLD_IMAGES to `message-stream-processor`, which publishes to the
 * `message-notifications` topic (email + SQS subscriptions). Failed batches go to an SQS dead-letter
 * queue; the log group is `/aws/lambda/message-stream-processor`. Least privilege, encryption, tags.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Annotations,
  CfnOutput,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cwActions,
  Duration,
  aws_dynamodb as dynamodb,
  aws_lambda_event_sources as eventSources,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  Stack,
  type StackProps,
  aws_sns as sns,
  aws_sqs as sqs,
  aws_sns_subscriptions as subs,
  Tags,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { MessageNotificationsConfig } from './config.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const HANDLER_ENTRY = join(here, '..', '..', 'src', 'handler.ts');

/** The nearest directory above `from` holding a package-lock.json (the workspace root in this repo). */
export function lockfileRoot(from: string = here): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package-lock.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package-lock.json above ${from}`);
  }
}

export interface MessageNotificationsStackProps extends StackProps {
  config: MessageNotificationsConfig;
}

export class MessageNotificationsStack extends Stack {
  readonly table: dynamodb.Table;
  readonly processor: nodejs.NodejsFunction;
  readonly topic: sns.Topic;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: MessageNotificationsStackProps) {
    super(scope, id, props);
    const c = props.config;

    this.table = new dynamodb.Table(this, 'MessagesTable', {
      tableName: c.tableName,
      partitionKey: { name: 'message_id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: c.retainTable ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // Messages by time, and an author's messages in time order.
    this.table.addGlobalSecondaryIndex({
      indexName: 'timestamp-index',
      partitionKey: { name: 'timestamp', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: 'author-index',
      partitionKey: { name: 'author', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'timestamp', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.topic = new sns.Topic(this, 'NotificationTopic', {
      topicName: c.topicName,
      displayName: 'Message notifications',
    });
    this.queue = new sqs.Queue(this, 'NotificationQueue', {
      queueName: c.queueName,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
    });
    this.topic.addSubscription(new subs.SqsSubscription(this.queue));
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      topicName: `${c.topicName}-alarms`,
      displayName: 'Message notification alarms',
    });
    if (c.notificationEmail) {
      this.topic.addSubscription(new subs.EmailSubscription(c.notificationEmail));
      this.alarmTopic.addSubscription(new subs.EmailSubscription(c.notificationEmail));
    } else {
      Annotations.of(this).addWarningV2(
        'eddy-pipelines:message-notifications:noEmail',
        'notificationEmail is not set (-c notificationEmail=you@example.com): no email subscriptions',
      );
    }

    this.deadLetterQueue = new sqs.Queue(this, 'StreamDeadLetterQueue', {
      queueName: `${c.functionName}-dlq`,
      retentionPeriod: Duration.days(c.dlqRetentionDays),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    const logGroup = new logs.LogGroup(this, 'ProcessorLogGroup', {
      logGroupName: `/aws/lambda/${c.functionName}`,
      retention: c.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'StreamProcessorRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the message stream processor',
    });
    logGroup.grantWrite(role);

    this.processor = new nodejs.NodejsFunction(this, 'StreamProcessor', {
      functionName: c.functionName,
      description: 'One SNS notification per new message; replies include the original message',
      role,
      entry: HANDLER_ENTRY,
      handler: 'handler',
      projectRoot: lockfileRoot(),
      depsLockFilePath: join(lockfileRoot(), 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: c.lambdaMemory,
      timeout: Duration.seconds(c.lambdaTimeout),
      logGroup,
      environment: {
        SNS_TOPIC_ARN: this.topic.topicArn,
        MESSAGES_TABLE: this.table.tableName,
        POWERTOOLS_SERVICE_NAME: 'message-notifications',
        POWERTOOLS_METRICS_NAMESPACE: 'MessageNotifications',
        LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        externalModules: ['@aws-sdk/*'],
        format: nodejs.OutputFormat.CJS,
        target: 'node22',
        minify: true,
        sourceMap: true,
      },
    });

    this.processor.addEventSource(
      new eventSources.DynamoEventSource(this.table, {
        startingPosition: lambda.StartingPosition[c.startingPosition],
        batchSize: c.batchSize,
        bisectBatchOnError: true,
        retryAttempts: c.retryAttempts,
        parallelizationFactor: c.parallelizationFactor,
        maxRecordAge: c.maxRecordAgeSeconds === -1 ? undefined : Duration.seconds(c.maxRecordAgeSeconds),
        reportBatchItemFailures: true,
        onFailure: new eventSources.SqsDlq(this.deadLetterQueue),
      }),
    );

    // Least privilege: publish to this topic; GetItem on this table only (replies read the original) --
    // not table.grant(), which adds the indexes too. Stream reads and the DLQ SendMessage are granted by
    // the event source and SqsDlq, scoped to this stream and queue.
    this.topic.grantPublish(this.processor);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [this.table.tableArn] }),
    );

    const action = new cwActions.SnsAction(this.alarmTopic);
    const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
    };
    alarm(
      'ProcessorErrorsAlarm',
      this.processor.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      1,
      'message-stream-processor failed at least once in 5 minutes',
    );
    // Partial batch failures are successful invocations: Errors stays 0, the handler's EMF metric does not.
    alarm(
      'ProcessorFailedEventsAlarm',
      new cloudwatch.Metric({
        namespace: 'MessageNotifications',
        metricName: 'FailedEvents',
        dimensionsMap: { service: 'message-notifications' },
        period: Duration.minutes(1),
        statistic: 'Sum',
      }),
      1,
      'Stream records failed (reported as batch item failures): they are retried, then sent to the DLQ',
    );
    alarm(
      'DeadLetterQueueDepthAlarm',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      1,
      'Stream batches exhausted their retries and landed in the dead-letter queue',
    );

    Tags.of(this).add('Project', c.project);
    Tags.of(this).add('Environment', c.environment);
    Tags.of(this).add('Application', 'message-notifications');
    Tags.of(this).add('ManagedBy', 'cdk');

    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('TableName', this.table.tableName, 'The messages table');
    out('TableStreamArn', this.table.tableStreamArn!, 'The messages table stream');
    out('FunctionName', this.processor.functionName, 'Stream processor function');
    out('LogGroupName', logGroup.logGroupName, 'Stream processor log group');
    out('SnsTopicArn', this.topic.topicArn, 'Notification topic (terraform output sns_topic_arn)');
    out('SqsQueueUrl', this.queue.queueUrl, 'SQS subscription of the topic (terraform output sqs_queue_url)');
    out('DeadLetterQueueUrl', this.deadLetterQueue.queueUrl, 'On-failure destination of the event source mapping');
    out('AlarmTopicArn', this.alarmTopic.topicArn, 'Alarm topic');
  }
}
