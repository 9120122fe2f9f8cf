import { randomBytes, randomUUID } from 'node:crypto';

export const uuid = (): string => randomUUID();

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
// A random per-process prefix plus a counter: unique, AWS-shaped, and no entropy drawn per request.
const PREFIX = Array.from(randomBytes(32), (b) => ALNUM[b % 36]).join('');
let counter = 0;
/** An AWS-looking request id for services that use the 52-char upper-case form (DynamoDB). */
export function dynamoRequestId(): string {
  counter = (counter + 1) % 36 ** 10;
  return `${PREFIX}${counter.toString(36).toUpperCase().padStart(20, '0')}`;
}

export const DEFAULT_ACCOUNT = '000000000000';

/** Account id from the access key: a 12-digit key is that account (as LocalStack does), else the default. */
export function accountFromAccessKey(accessKey: string | undefined, fallback = DEFAULT_ACCOUNT): string {
  return accessKey && /^\d{12}$/.test(accessKey) ? accessKey : fallback;
}
