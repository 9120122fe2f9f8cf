import type { Clock } from '../../core/clock.ts';
import type { StreamsPort } from '../../core/ports.ts';
import type { Storage } from '../../storage/types.ts';
import type { ItemStore } from './items/item-store.ts';
import type { Catalog } from './tables/catalog.ts';

/** What DynamoDB's operations share. */
export interface Dynamo {
  storage: Storage;
  clock: Clock;
  catalog: Catalog;
  items: ItemStore;
  streams?: StreamsPort;
  /** Run `fn` as one transaction; the catalog cache is dropped if it fails. */
  tx<T>(fn: () => T): T;
}
