/**
 * Typed ports between services. A service depends on these interfaces; `integrations/` implements
 * them. Services never import each other.
 */
import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';
import type { Storage } from '../storage/types.ts';

/** What every service factory receives from the composition root. */
export interface ServiceDeps {
  storage: Storage;
  clock: Clock;
  logger: Logger;
}

/** A change to one DynamoDB item, reported inside the writing transaction (the Streams writer consumes it). */
export interface ItemChange {
  accountId: string;
  region: string;
  tableName: string;
  /** Key attributes of the item (AttributeValue map). */
  keys: Record<string, unknown>;
  oldImage?: Record<string, unknown>;
  newImage?: Record<string, unknown>;
  /** Set for changes made by the service itself (TTL expiry). */
  userIdentity?: { type: 'Service'; principalId: string };
}
