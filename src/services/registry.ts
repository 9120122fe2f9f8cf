import type { ServiceDeps } from '../core/ports.ts';
import type { ServiceImpl } from '../gateway/service.ts';
import { createDynamoDbService } from './dynamodb/index.ts';
import { createStsService } from './sts/index.ts';

/** Every service Eddy serves, keyed by the name `protocol/detect.ts` gives it. */
export function createServices(deps: ServiceDeps): { services: Record<string, ServiceImpl>; stop(): void } {
  const dynamodb = createDynamoDbService(deps);
  return {
    services: {
      sts: createStsService(),
      dynamodb: dynamodb.service,
    },
    stop() {
      dynamodb.stop();
    },
  };
}
