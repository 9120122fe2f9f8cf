import { fileURLToPath } from 'node:url';
/** The deployed change-capture resources, from env, `infra/cdk-outputs.json` or the stack's outputs. */
import { stackOutputs, type Target } from '../../shared/target.ts';

export interface Resources {
  tableName: string;
  functionName: string;
  logGroupName: string;
  topicArn?: string;
  notificationQueueUrl?: string;
  deadLetterQueueUrl?: string;
  auditBucket: string;
}

export async function resolveResources(t: Target, env: NodeJS.ProcessEnv = process.env): Promise<Resources> {
  const stack = env.STACK_NAME || 'dynamodb-streams-processing';
  const o = await stackOutputs(t, stack, PIPELINE_DIR);
  const tableName = env.TABLE_NAME || o.TableName;
  const auditBucket = env.AUDIT_BUCKET || o.AuditBucketName;
  if (!tableName || !auditBucket)
    throw new Error(
      `cannot find the table and audit bucket: deploy stack ${stack} first, or set TABLE_NAME and AUDIT_BUCKET`,
    );
  const functionName = env.FUNCTION_NAME || o.FunctionName || 'stream-processor-dev';
  return {
    tableName,
    functionName,
    logGroupName: env.LOG_GROUP_NAME || o.LogGroupName || `/aws/lambda/${functionName}`,
    topicArn: env.TOPIC_ARN || o.TopicArn,
    notificationQueueUrl: env.NOTIFICATION_QUEUE_URL || o.NotificationQueueUrl,
    deadLetterQueueUrl: env.DLQ_URL || o.DeadLetterQueueUrl,
    auditBucket,
  };
}

/** This pipeline's folder (its infra/cdk-outputs.json is read first). */
const PIPELINE_DIR = fileURLToPath(new URL('..', import.meta.url));
