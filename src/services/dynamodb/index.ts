import type { ServiceDeps } from '../../core/ports.ts';
import type { ServiceImpl } from '../../gateway/service.ts';

export function createDynamoDbService(_deps: ServiceDeps): { service: ServiceImpl; stop(): void } {
  return {
    service: { model: 'dynamodb', operations: { ListTables: () => ({ TableNames: [] }) } },
    stop() {},
  };
}
