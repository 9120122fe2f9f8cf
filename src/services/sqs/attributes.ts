import { invalidAttributeName, invalidAttributeValue, sqsError, unsupported } from './errors.ts';

/** Settable queue attributes, their ranges and defaults as AWS documents them. */
const NUMERIC: Record<string, [number, number, string]> = {
  DelaySeconds: [0, 900, '0'],
  MaximumMessageSize: [1024, 1048576, '1048576'],
  MessageRetentionPeriod: [60, 1209600, '345600'],
  ReceiveMessageWaitTimeSeconds: [0, 20, '0'],
  VisibilityTimeout: [0, 43200, '30'],
  KmsDataKeyReusePeriodSeconds: [60, 86400, '300'],
};

export const SETTABLE = new Set([
  ...Object.keys(NUMERIC),
  'Policy',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'SqsManagedSseEnabled',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);

export const READ_ONLY = [
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
];

export const ALL_ATTRIBUTE_NAMES = new Set([...SETTABLE, ...READ_ONLY, 'All']);

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

/** Defaults a new queue gets (GetQueueAttributes shows them). */
export function defaultAttributes(fifo: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, [, , d]] of Object.entries(NUMERIC)) if (k !== 'KmsDataKeyReusePeriodSeconds') out[k] = d;
  out.SqsManagedSseEnabled = 'true';
  if (fifo) {
    out.FifoQueue = 'true';
    out.ContentBasedDeduplication = 'false';
    out.DeduplicationScope = 'queue';
    out.FifoThroughputLimit = 'perQueue';
  }
  return out;
}

/**
 * Validate attributes for CreateQueue / SetQueueAttributes; returns them normalised. `creating`
 * allows FifoQueue (it cannot change later).
 */
export function validateAttributes(
  attrs: Record<string, string>,
  opts: { fifo: boolean; creating: boolean; queueExists: (arn: string) => boolean },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(attrs)) {
    const value = String(raw);
    if (!SETTABLE.has(name)) throw invalidAttributeName(name);
    const range = NUMERIC[name];
    if (range) {
      if (!/^-?\d+$/.test(value.trim())) throw invalidAttributeValue(name);
      const n = Number(value);
      if (n < range[0] || n > range[1]) throw invalidAttributeValue(name);
      out[name] = String(n);
      continue;
    }
    switch (name) {
      case 'FifoQueue':
        if (!opts.creating) {
          if (value !== String(opts.fifo)) throw invalidAttributeName(name);
          break;
        }
        if (value !== 'true' && value !== 'false') throw invalidAttributeValue(name);
        if (value === 'true' && !opts.fifo) throw invalidAttributeValue(name);
        if (value === 'true') out[name] = value;
        break;
      case 'ContentBasedDeduplication':
      case 'SqsManagedSseEnabled':
        if (value !== 'true' && value !== 'false') throw invalidAttributeValue(name);
        if (name === 'ContentBasedDeduplication' && !opts.fifo) throw invalidAttributeName(name);
        out[name] = value;
        break;
      case 'DeduplicationScope':
        if (!opts.fifo) throw invalidAttributeName(name);
        if (value !== 'queue' && value !== 'messageGroup') throw invalidAttributeValue(name);
        out[name] = value;
        break;
      case 'FifoThroughputLimit':
        if (!opts.fifo) throw invalidAttributeName(name);
        if (value !== 'perQueue' && value !== 'perMessageGroupId') throw invalidAttributeValue(name);
        out[name] = value;
        break;
      case 'RedrivePolicy':
        out[name] = value === '' ? '' : JSON.stringify(parseRedrivePolicy(value, opts));
        break;
      case 'RedriveAllowPolicy':
        out[name] = value === '' ? '' : validateRedriveAllow(value);
        break;
      case 'Policy':
        if (value !== '') {
          try {
            JSON.parse(value);
          } catch {
            throw invalidAttributeValue(name);
          }
        }
        out[name] = value;
        break;
      case 'KmsMasterKeyId':
        out[name] = value;
        break;
    }
  }
  return out;
}

export function parseRedrivePolicy(
  value: string,
  opts: { fifo: boolean; queueExists: (arn: string) => boolean },
): RedrivePolicy {
  let p: any;
  try {
    p = JSON.parse(value);
  } catch {
    throw sqsError(
      'InvalidAttributeValue',
      `Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.`,
    );
  }
  if (!p || typeof p !== 'object' || Array.isArray(p)) {
    throw sqsError(
      'InvalidAttributeValue',
      `Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.`,
    );
  }
  for (const k of Object.keys(p)) {
    if (k !== 'deadLetterTargetArn' && k !== 'maxReceiveCount') {
      throw sqsError(
        'InvalidAttributeValue',
        `Invalid value for the parameter RedrivePolicy. Reason: Only following attributes are supported: [deadLetterTargetArn, maxReceiveCount].`,
      );
    }
  }
  if (p.deadLetterTargetArn === undefined || p.maxReceiveCount === undefined) {
    throw sqsError(
      'InvalidAttributeValue',
      'Invalid value for the parameter RedrivePolicy. Reason: Redrive policy does not contain mandatory attribute: ' +
        (p.deadLetterTargetArn === undefined ? 'deadLetterTargetArn' : 'maxReceiveCount') +
        '.',
    );
  }
  const n = Number(p.maxReceiveCount);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw sqsError(
      'InvalidAttributeValue',
      'Invalid value for the parameter RedrivePolicy. Reason: Invalid value for maxReceiveCount: ' +
        p.maxReceiveCount +
        ', valid values are from 1 to 1000 both inclusive.',
    );
  }
  const arn = String(p.deadLetterTargetArn);
  if (!opts.queueExists(arn)) {
    throw sqsError(
      'InvalidAttributeValue',
      'Invalid value for the parameter RedrivePolicy. Reason: Dead-letter target does not exist.',
    );
  }
  if (arn.endsWith('.fifo') !== opts.fifo) {
    throw sqsError(
      'InvalidAttributeValue',
      'Invalid value for the parameter RedrivePolicy. Reason: Dead-letter queue must be same type of queue as the source.',
    );
  }
  return { deadLetterTargetArn: arn, maxReceiveCount: n };
}

function validateRedriveAllow(value: string): string {
  let p: any;
  try {
    p = JSON.parse(value);
  } catch {
    throw sqsError(
      'InvalidAttributeValue',
      "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't parse the redrive allow policy.",
    );
  }
  const perm = p?.redrivePermission;
  if (perm !== 'allowAll' && perm !== 'denyAll' && perm !== 'byQueue') {
    throw sqsError(
      'InvalidAttributeValue',
      'Invalid value for the parameter RedriveAllowPolicy. Reason: Invalid value for redrivePermission.',
    );
  }
  if (perm === 'byQueue') {
    const arns = p.sourceQueueArns;
    if (!Array.isArray(arns) || arns.length < 1 || arns.length > 10) {
      throw sqsError(
        'InvalidAttributeValue',
        'Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS requires between 1 and 10 sourceQueueArns when redrivePermission is byQueue.',
      );
    }
  } else if (p.sourceQueueArns !== undefined) {
    throw sqsError(
      'InvalidAttributeValue',
      `Invalid value for the parameter RedriveAllowPolicy. Reason: sourceQueueArns is only allowed when redrivePermission is byQueue.`,
    );
  }
  return JSON.stringify(p);
}

/** Whether a DLQ's RedriveAllowPolicy admits this source queue. */
export function redriveAllowed(dlqAttrs: Record<string, string>, sourceArn: string): boolean {
  const raw = dlqAttrs.RedriveAllowPolicy;
  if (!raw) return true;
  const p = JSON.parse(raw);
  if (p.redrivePermission === 'denyAll') return false;
  if (p.redrivePermission === 'byQueue') return (p.sourceQueueArns as string[]).includes(sourceArn);
  return true;
}

export function unsupportedAttribute(name: string): never {
  throw unsupported(`The queue attribute ${name}`);
}
