import type { RequestContext } from '../core/context.ts';
import { uuid } from '../core/ids.ts';
import type { ObjectsPort, ServiceDeps } from '../core/ports.ts';
import type { ServiceImpl } from '../gateway/service.ts';
import { createAwsCall } from '../integrations/aws-call.ts';
import { lambdaInvokerFrom } from '../integrations/delivery.ts';
import {
  cloudwatchEsmMetrics,
  dynamodbStreamSource,
  outboxDestinations,
  s3ObjectDestination,
  sqsQueueSource,
} from '../integrations/esm-sources.ts';
import { createMessaging, type Messaging } from '../integrations/messaging.ts';
import { snsTopicSink } from '../integrations/sns-topic-sink.ts';
import { createCloudFormationService } from './cloudformation/index.ts';
import { createCloudWatchService } from './cloudwatch/index.ts';
import { createDynamoDbService } from './dynamodb/index.ts';
import { createDynamoDbStreamsService } from './dynamodbstreams/index.ts';
import { createLambdaService } from './lambda/index.ts';
import { createLogsService } from './logs/index.ts';
import { createS3Service } from './s3/index.ts';
import { createStsService } from './sts/index.ts';

/**
 * Every service Eddy serves, keyed by the name `protocol/detect.ts` gives it, and the ports that
 * join them (services never import each other).
 */
export function createServices(deps: ServiceDeps): { services: Record<string, ServiceImpl>; stop(): void } {
  const stops: (() => void)[] = [];
  const streams = createDynamoDbStreamsService(deps, {
    shardRolloverMs: envMs('EDDY_DYNAMODB_STREAMS_SHARD_ROLLOVER_MS'),
  });
  stops.push(streams.stop);
  // CloudWatch first: services emit metrics through its port; alarm actions go out through the outbox.
  let messaging: Messaging | undefined;
  const cloudwatch = createCloudWatchService(deps, {
    delivery: { deliver: (t, m) => messaging!.outbox.deliver(t, m) },
  });
  stops.push(cloudwatch.stop);
  const dynamodbDeps = { ...deps, streams: streams.port, metrics: cloudwatch.port };
  const dynamodb = createDynamoDbService(dynamodbDeps);
  stops.push(dynamodb.stop);
  const logs = createLogsService(deps, cloudwatch.port);
  stops.push(logs.stop);
  const lambda = createLambdaService(deps, logs.port, cloudwatch.port);
  stops.push(lambda.stop);
  messaging = createMessaging(deps, { metrics: cloudwatch.port });
  stops.push(messaging.stop);
  messaging.outbox.addSink(snsTopicSink(messaging.services.sns));
  const s3 = createS3Service(deps, { delivery: messaging.outbox });
  stops.push(s3.stop);
  // Lambda reads deployment packages from S3 (Code.S3Bucket/S3Key, as CDK assets arrive).
  lambda.setObjects(s3Objects(s3.service, deps));
  // SNS → Lambda subscriptions deliver through the outbox into Lambda's invoke.
  messaging.setLambdaInvoker(lambdaInvokerFrom(lambda.invoke));
  // Event source mappings read DynamoDB Streams' log and deliver on-failure records through the outbox.
  const esmPorts = {
    streams: [dynamodbStreamSource(streams)],
    queues: sqsQueueSource(messaging.services.sqs, deps.clock),
    destinations: outboxDestinations(messaging.outbox),
    objects: s3ObjectDestination(s3.service, deps.clock),
    metrics: cloudwatchEsmMetrics(cloudwatch.port),
  };
  lambda.esm.attach(esmPorts);
  // CloudFormation deploys resources by calling the other services' operations in process.
  const cloudformation = createCloudFormationService(deps);
  stops.push(cloudformation.stop);
  const services: Record<string, ServiceImpl> = {
    ...messaging.services,
    sts: createStsService(),
    dynamodb: dynamodb.service,
    dynamodbstreams: streams.service,
    lambda: lambda.service,
    logs: logs.service,
    s3: s3.service,
    cloudwatch: cloudwatch.service,
    cloudformation: cloudformation.service,
  };
  cloudformation.connect(createAwsCall(services));
  return {
    services,
    stop() {
      for (const s of stops.reverse()) s();
    },
  };
}

/** A positive number of milliseconds from the environment, or undefined. */
function envMs(name: string): number | undefined {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** Lambda → S3: read an object through S3's own GetObject (same checks, same errors). */
function s3Objects(s3: ServiceImpl, deps: ServiceDeps): ObjectsPort {
  return {
    async getObject(t) {
      const ctx: RequestContext = {
        requestId: uuid(),
        accountId: t.accountId,
        region: t.region,
        service: 's3',
        operation: 'GetObject',
        clock: deps.clock,
        endpoint: deps.endpoint(),
      };
      const out = (await s3.operations.GetObject({ Bucket: t.bucket, Key: t.key, VersionId: t.versionId }, ctx)) as {
        Body?: Buffer | AsyncIterable<Buffer>;
      };
      if (!out.Body) return Buffer.alloc(0);
      if (Buffer.isBuffer(out.Body)) return out.Body;
      const chunks: Buffer[] = [];
      for await (const c of out.Body) chunks.push(Buffer.from(c));
      return Buffer.concat(chunks);
    },
  };
}
