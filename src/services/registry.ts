import type { ServiceDeps } from '../core/ports.ts';
import type { ServiceImpl } from '../gateway/service.ts';
import { createDynamoDbService } from './dynamodb/index.ts';
import { createStsService } from './sts/index.ts';

/**
 * Every service Eddy serves, keyed by the name `protocol/detect.ts` gives it, and the ports that
 * join them (services never import each other).
 */
export function createServices(deps: ServiceDeps): { services: Record<string, ServiceImpl>; stop(): void } {
  const stops: (() => void)[] = [];
  const dynamodb = createDynamoDbService(deps);
  stops.push(dynamodb.stop);
  return {
    services: {
      sts: createStsService(),
      dynamodb: dynamodb.service,
    },
    stop() {
      for (const s of stops.reverse()) s();
    },
  };
}
