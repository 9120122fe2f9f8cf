import { fileURLToPath } from 'node:url';
/** The deployed message-notifications resources, found as target.ts describes. */
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig, stackOutputs, type Target } from '../../shared/target.ts';

export interface Resources {
  tableName: string;
  topicArn: string;
  queueUrl: string;
  deadLetterQueueUrl?: string;
  logGroupName: string;
}

async function topicNamed(t: Target, name: string): Promise<string> {
  const sns = new SNSClient(clientConfig(t));
  try {
    let NextToken: string | undefined;
    do {
      const page = await sns.send(new ListTopicsCommand({ NextToken }));
      const hit = page.Topics?.find((x) => x.TopicArn?.endsWith(`:${name}`));
      if (hit?.TopicArn) return hit.TopicArn;
      NextToken = page.NextToken;
    } while (NextToken);
    throw new Error(`no SNS topic named ${name}: deploy the stack first, or set SNS_TOPIC_ARN`);
  } finally {
    sns.destroy();
  }
}

async function queueNamed(t: Target, name: string): Promise<string> {
  const sqs = new SQSClient(clientConfig(t));
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  } catch (e) {
    throw new Error(`no SQS queue named ${name} (${(e as Error).name}): deploy the stack first, or set SQS_QUEUE_URL`);
  } finally {
    sqs.destroy();
  }
}

export async function resolveResources(t: Target, env: NodeJS.ProcessEnv = process.env): Promise<Resources> {
  const outputs = await stackOutputs(t, env.STACK_NAME || 'message-notifications', PIPELINE_DIR);
  return {
    tableName: env.TABLE_NAME || outputs.TableName || 'messages',
    topicArn: env.SNS_TOPIC_ARN || outputs.SnsTopicArn || (await topicNamed(t, 'message-notifications')),
    queueUrl: env.SQS_QUEUE_URL || outputs.SqsQueueUrl || (await queueNamed(t, 'message-notifications-queue')),
    deadLetterQueueUrl: env.DLQ_URL || outputs.DeadLetterQueueUrl,
    logGroupName: outputs.LogGroupName || '/aws/lambda/message-stream-processor',
  };
}

/** This pipeline's folder (its infra/cdk-outputs.json is read first). */
const PIPELINE_DIR = fileURLToPath(new URL('..', import.meta.url));
