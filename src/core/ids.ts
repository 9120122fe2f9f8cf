import { randomBytes, randomUUID } from 'node:crypto';

export const uuid = (): string => randomUUID();

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** An AWS-looking request id for services that use the 52-char upper-case form (DynamoDB). */
export function dynamoRequestId(): string {
  const b = randomBytes(52);
  let s = '';
  for (let i = 0; i < 52; i++) s += ALNUM[b[i] % 36];
  return s;
}

export const DEFAULT_ACCOUNT = '000000000000';

/** Account id from the access key: a 12-digit key is that account (as LocalStack does), else the default. */
export function accountFromAccessKey(accessKey: string | undefined, fallback = DEFAULT_ACCOUNT): string {
  return accessKey && /^\d{12}$/.test(accessKey) ? accessKey : fallback;
}
