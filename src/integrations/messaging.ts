import type { MetricsPort, ServiceDeps } from '../core/ports.ts';
import type { ServiceImpl } from '../gateway/service.ts';
import { createSnsService, type SnsApi } from '../services/sns/index.ts';
import { createSqsService, type SqsApi } from '../services/sqs/index.ts';
import { deliveryMetrics, httpSink, type LambdaInvoker, lambdaSink, mailSink, snsSink, sqsSink } from './delivery.ts';
import { Mailbox } from './mailbox.ts';
import { Outbox } from './outbox.ts';

export interface Messaging {
  services: Record<string, ServiceImpl>;
  /** The one delivery path (transactional outbox), for other services to deliver through. */
  outbox: Outbox;
  mailbox: Mailbox;
  sqs: SqsApi;
  sns: SnsApi;
  /** Wire Lambda targets once the Lambda service offers asynchronous invokes. */
  setLambdaInvoker(invoker: LambdaInvoker | undefined): void;
  stop(): void;
}

/**
 * SQS, SNS and the delivery path between them (and to Lambda, HTTP endpoints and the local mailbox;
 * later EventBridge targets, DLQs, on-failure destinations and S3 notifications). The composition
 * root calls this once; rows left in the outbox by a previous run are delivered on start.
 */
export function createMessaging(deps: ServiceDeps, opts: { metrics?: MetricsPort } = {}): Messaging {
  const { metrics } = opts;
  const outbox = new Outbox(deps.storage, deps.clock, deps.logger);
  const mailbox = new Mailbox(deps.storage, deps.clock);
  // AWS/SQS and AWS/SNS metrics (and Lambda's DeadLetterErrors, seen on the delivery path) into CloudWatch.
  if (metrics) outbox.observe(deliveryMetrics(metrics));
  const sqs = createSqsService(deps, metrics);
  let lambda: LambdaInvoker | undefined;
  outbox.addSink(sqsSink(sqs.api));
  outbox.addSink(mailSink(mailbox));
  outbox.addSink(httpSink());
  outbox.addSink(lambdaSink(() => lambda, deps.logger));
  const sns = createSnsService(deps, { delivery: outbox, routes: (req) => mailbox.route(req), metrics });
  outbox.addSink(snsSink(sns.api));
  outbox.wake();
  return {
    services: { sqs: sqs.service, sns: sns.service },
    outbox,
    mailbox,
    sqs: sqs.api,
    sns: sns.api,
    setLambdaInvoker(invoker) {
      lambda = invoker;
    },
    stop() {
      outbox.stop();
      sns.stop();
      sqs.stop();
    },
  };
}
