/**
 * The change-capture system (seed 000): user-activity table with a NEW_AND_OLD_IMAGES stream, the stream
 * processor Lambda behind an event source mapping (bisect, retries, partial batch failures, on-failure
 * SQS dead-letter queue), an SNS topic with email + SQS subscriptions, an encrypted S3 audit bucket,
 * CloudWatch alarms notifying an alarm topic. Least-privilege grants, encryption at rest, tags.
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
  aws_s3 as s3,
  aws_sns as sns,
  aws_sqs as sqs,
  aws_sns_subscriptions as subs,
  Tags,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ChangeCaptureConfig } from './config.ts';

export const AUDIT_PREFIX = 'audit-logs';
const here = dirname(fileURLToPath(import.meta.url));
export const HANDLER_ENTRY = join(here, '..', '..', 'src', 'handler.ts');

/** The nearest directory above `from` holding a package-lock.json (the workspace root in this repo). */
export function lockfileRoot(from: string = here): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package-lock.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package-lock.json above ${from}`);
  }
}

export interface ChangeCaptureStackProps extends StackProps {
  config: ChangeCaptureConfig;
}

export class ChangeCaptureStack extends Stack {
  readonly table: dynamodb.Table;
  readonly processor: nodejs.NodejsFunction;
  readonly topic: sns.Topic;
  readonly alarmTopic: sns.Topic;
  readonly notificationsQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly auditBucket: s3.Bucket;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ChangeCaptureStackProps) {
    super(scope, id, props);
    const c = props.config;

    this.table = new dynamodb.Table(this, 'UserActivityTable', {
      tableName: c.tableName,
      partitionKey: { name: 'UserId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'ActivityId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: c.retainTable ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.auditBucket = new s3.Bucket(this, 'AuditBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      // Audit evidence outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'audit-logs-to-infrequent-access',
          prefix: `${AUDIT_PREFIX}/`,
          transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) }],
          noncurrentVersionExpiration: Duration.days(365),
        },
      ],
    });

    this.deadLetterQueue = new sqs.Queue(this, 'StreamDeadLetterQueue', {
      retentionPeriod: Duration.days(c.dlqRetentionDays),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.topic = new sns.Topic(this, 'NotificationTopic', { displayName: 'User activity change notifications' });
    this.notificationsQueue = new sqs.Queue(this, 'NotificationQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
    });
    this.topic.addSubscription(new subs.SqsSubscription(this.notificationsQueue));
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Change capture alarms' });
    if (c.notificationEmail) {
      this.topic.addSubscription(new subs.EmailSubscription(c.notificationEmail));
      this.alarmTopic.addSubscription(new subs.EmailSubscription(c.notificationEmail));
    } else {
      Annotations.of(this).addWarningV2(
        'eddy-pipelines:change-capture:noEmail',
        'notificationEmail is not set (-c notificationEmail=you@example.com): no email subscriptions',
      );
    }

    const logGroup = new logs.LogGroup(this, 'ProcessorLogGroup', {
      logGroupName: `/aws/lambda/${c.functionName}`,
      retention: c.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Our own role instead of AWSLambdaBasicExecutionRole (logs:* on every log group): write to this
    // function's log group only.
    const role = new iam.Role(this, 'StreamProcessorRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the change-capture stream processor',
    });
    logGroup.grantWrite(role);

    this.processor = new nodejs.NodejsFunction(this, 'StreamProcessor', {
      role,
      functionName: c.functionName,
      description: 'User-activity change capture: S3 audit log + SNS notifications',
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
        TOPIC_ARN: this.topic.topicArn,
        AUDIT_BUCKET: this.auditBucket.bucketName,
        AUDIT_PREFIX,
        NOTIFY_ACTIVITY_TYPES: c.notifyActivityTypes.join(','),
        POWERTOOLS_SERVICE_NAME: 'change-capture',
        POWERTOOLS_METRICS_NAMESPACE: 'ChangeCapture',
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
        reportBatchItemFailures: true,
        onFailure: new eventSources.SqsDlq(this.deadLetterQueue),
      }),
    );

    // Least privilege: publish to this topic; PutObject under the audit prefix only (not grantPut, which
    // adds object-lock retention, legal hold and tagging). Stream reads and the DLQ SendMessage are
    // granted by the event source and SqsDlq, scoped to this stream and queue.
    this.topic.grantPublish(this.processor);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [this.auditBucket.arnForObjects(`${AUDIT_PREFIX}/*`)],
      }),
    );

    const action = new cwActions.SnsAction(this.alarmTopic);
    const alarm = (
      id: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      evaluationPeriods = 1,
    ) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      this.alarms.push(a);
      return a;
    };
    const fiveMinutes = Duration.minutes(5);
    alarm(
      'ProcessorErrorsAlarm',
      this.processor.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      1,
      'The stream processor failed at least once in 5 minutes',
    );
    // Partial batch failures are successful invocations: Errors stays 0, the handler's EMF metric does not.
    alarm(
      'ProcessorFailedEventsAlarm',
      new cloudwatch.Metric({
        namespace: 'ChangeCapture',
        metricName: 'FailedEvents',
        dimensionsMap: { service: 'change-capture' },
        period: Duration.minutes(1),
        statistic: 'Sum',
      }),
      1,
      'Stream records failed (reported as batch item failures): they are retried, then sent to the DLQ',
    );
    alarm(
      'ProcessorDurationAlarm',
      this.processor.metricDuration({ period: fiveMinutes, statistic: 'Maximum' }),
      Math.floor(c.lambdaTimeout * 1000 * 0.8),
      'The stream processor ran for more than 80% of its timeout',
    );
    alarm(
      'ProcessorIteratorAgeAlarm',
      this.processor.metric('IteratorAge', { period: fiveMinutes, statistic: 'Maximum' }),
      60_000,
      'The stream processor is more than a minute behind the table',
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
    alarm(
      'TableReadThrottleAlarm',
      this.table.metric('ReadThrottleEvents', { period: fiveMinutes, statistic: 'Sum' }),
      1,
      'Reads on the user-activity table are being throttled',
    );
    alarm(
      'TableWriteThrottleAlarm',
      this.table.metric('WriteThrottleEvents', { period: fiveMinutes, statistic: 'Sum' }),
      1,
      'Writes to the user-activity table are being throttled',
    );

    Tags.of(this).add('Project', c.project);
    Tags.of(this).add('Environment', c.environment);
    Tags.of(this).add('Application', 'change-capture');
    Tags.of(this).add('ManagedBy', 'cdk');

    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('TableName', this.table.tableName, 'User-activity table');
    out('TableStreamArn', this.table.tableStreamArn!, 'The table stream');
    out('FunctionName', this.processor.functionName, 'Stream processor function');
    out('LogGroupName', logGroup.logGroupName, 'Stream processor log group');
    out('TopicArn', this.topic.topicArn, 'Change notification topic');
    out('AlarmTopicArn', this.alarmTopic.topicArn, 'Alarm topic');
    out('NotificationQueueUrl', this.notificationsQueue.queueUrl, 'SQS subscription of the notification topic');
    out('DeadLetterQueueUrl', this.deadLetterQueue.queueUrl, 'On-failure destination of the event source mapping');
    out('AuditBucketName', this.auditBucket.bucketName, 'Audit log bucket (audit-logs/YYYY/MM/DD/...)');
  }
}
