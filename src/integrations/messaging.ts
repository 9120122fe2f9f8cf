import type { ServiceDeps } from '../core/ports.ts';
import type { ServiceImpl } from '../gateway/service.ts';
import { createSqsService } from '../services/sqs/index.ts';

/**
 * SQS, SNS and the delivery path between them (and, later, to Lambda, EventBridge, S3 notifications):
 * the composition root calls this once.
 */
export function createMessaging(deps: ServiceDeps): { services: Record<string, ServiceImpl>; stop(): void } {
  const sqs = createSqsService(deps);
  return {
    services: { sqs: sqs.service },
    stop() {
      sqs.stop();
    },
  };
}
