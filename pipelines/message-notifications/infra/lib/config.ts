/**
 * The seed's settings (terraform.tfvars / variables.tf of seed 002) as typed, validated values. Each can
 * come from CDK context (`cdk synth -c notificationEmail=you@example.com`, cdk.json) or props.
 */
import type { Node } from 'constructs';

export interface MessageNotificationsConfig {
  stackName: string;
  /** Subscribed to the notification topic (and the alarm topic). Unset: no email subscription. */
  notificationEmail?: string;
  /** The seed's names: table `messages`, function `message-stream-processor`, topic `message-notifications`. */
  tableName: string;
  functionName: string;
  topicName: string;
  queueName: string;
  lambdaMemory: number;
  lambdaTimeout: number;
  batchSize: number;
  retryAttempts: number;
  dlqRetentionDays: number;
  parallelizationFactor: number;
  /** LATEST (default): a new mapping does not re-announce messages already in the stream. */
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** Records older than this go to the DLQ instead of notifying late (60-604800 s, or -1 for no limit). */
  maxRecordAgeSeconds: number;
  logRetentionDays: number;
  /** Tags: seed 002's `environment` and `project_name`. */
  environment: string;
  project: string;
  retainTable: boolean;
}

export const DEFAULTS: MessageNotificationsConfig = {
  stackName: 'message-notifications',
  tableName: 'messages',
  functionName: 'message-stream-processor',
  topicName: 'message-notifications',
  queueName: 'message-notifications-queue',
  lambdaMemory: 256,
  lambdaTimeout: 30,
  batchSize: 10,
  retryAttempts: 3,
  dlqRetentionDays: 14,
  parallelizationFactor: 1,
  startingPosition: 'LATEST',
  maxRecordAgeSeconds: 3600,
  logRetentionDays: 14,
  environment: 'learning',
  project: 'dynamodb-streaming-triggers',
  retainTable: false,
};

function intIn(name: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
  return n;
}

export function resolveConfig(
  input: Partial<Record<keyof MessageNotificationsConfig, unknown>>,
): MessageNotificationsConfig {
  const get = <K extends keyof MessageNotificationsConfig>(k: K): unknown =>
    input[k] === undefined || input[k] === '' ? DEFAULTS[k] : input[k];
  const email = input.notificationEmail;
  if (email !== undefined && email !== '' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(String(email)))
    throw new Error(`notificationEmail is not an email address: ${JSON.stringify(email)}`);
  const startingPosition = String(get('startingPosition')).toUpperCase();
  if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST')
    throw new Error(`startingPosition must be TRIM_HORIZON or LATEST (got ${JSON.stringify(startingPosition)})`);
  const maxAge = intIn('maxRecordAgeSeconds', get('maxRecordAgeSeconds'), -1, 604800);
  if (maxAge !== -1 && maxAge < 60) throw new Error('maxRecordAgeSeconds must be -1 or from 60 to 604800');
  const retain = get('retainTable');
  return {
    stackName: String(get('stackName')),
    notificationEmail: email ? String(email) : undefined,
    tableName: String(get('tableName')),
    functionName: String(get('functionName')),
    topicName: String(get('topicName')),
    queueName: String(get('queueName')),
    lambdaMemory: intIn('lambdaMemory', get('lambdaMemory'), 128, 10240),
    lambdaTimeout: intIn('lambdaTimeout', get('lambdaTimeout'), 1, 900),
    batchSize: intIn('batchSize', get('batchSize'), 1, 10000),
    retryAttempts: intIn('retryAttempts', get('retryAttempts'), -1, 10000),
    dlqRetentionDays: intIn('dlqRetentionDays', get('dlqRetentionDays'), 1, 14),
    parallelizationFactor: intIn('parallelizationFactor', get('parallelizationFactor'), 1, 10),
    startingPosition,
    maxRecordAgeSeconds: maxAge,
    logRetentionDays: intIn('logRetentionDays', get('logRetentionDays'), 1, 3653),
    environment: String(get('environment')),
    project: String(get('project')),
    retainTable: retain === true || retain === 'true',
  };
}

export function configFromContext(node: Node): MessageNotificationsConfig {
  const keys = [...Object.keys(DEFAULTS), 'notificationEmail'] as (keyof MessageNotificationsConfig)[];
  const input: Partial<Record<keyof MessageNotificationsConfig, unknown>> = {};
  for (const k of keys) input[k] = node.tryGetContext(k);
  return resolveConfig(input);
}
