import type { Clock } from './clock.ts';

/** What a service operation knows about the request it serves. No HTTP here. */
export interface RequestContext {
  requestId: string;
  accountId: string;
  region: string;
  service: string;
  operation: string;
  accessKeyId?: string;
  clock: Clock;
  /** The endpoint URL clients used (for building queue URLs and the like). */
  endpoint: string;
}
