/**
 * insert_messages.py, in TypeScript: insert sample messages (a new message, a question and its reply)
 * into the `messages` table. Each insert streams to the processor, which notifies the topic.
 *
 *   npm run insert-messages -w @eddy-pipelines/message-notifications            # Eddy at 127.0.0.1:4566
 *   EDDY_TARGET=aws npm run insert-messages -w @eddy-pipelines/message-notifications
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { clientConfig, describeTarget, isMain, resolveTarget, type Target } from '../../shared/target.ts';
import { resolveResources } from './resources.ts';

export interface InsertedMessage {
  message_id: string;
  author: string;
  content: string;
  timestamp: string;
  reply_to_message_id?: string;
}

/** insert_message(author, content, reply_to=None): one item, a fresh message_id, an ISO-8601 timestamp. */
export async function insertMessage(
  ddb: DynamoDBClient,
  tableName: string,
  author: string,
  content: string,
  replyTo?: string,
): Promise<InsertedMessage> {
  const message: InsertedMessage = {
    message_id: randomUUID(),
    author,
    content,
    timestamp: new Date().toISOString(),
    ...(replyTo ? { reply_to_message_id: replyTo } : {}),
  };
  await ddb.send(
    new PutItemCommand({
      TableName: tableName,
      Item: Object.fromEntries(Object.entries(message).map(([k, v]) => [k, { S: v }])),
      ConditionExpression: 'attribute_not_exists(message_id)',
    }),
  );
  return message;
}

export async function insertSampleMessages(
  target: Target = resolveTarget(),
  env = process.env,
): Promise<InsertedMessage[]> {
  const { tableName } = await resolveResources(target, env);
  const ddb = new DynamoDBClient(clientConfig(target));
  try {
    const hello = await insertMessage(ddb, tableName, 'alice', 'Hello world!');
    const question = await insertMessage(ddb, tableName, 'bob', "What's for lunch?");
    const reply = await insertMessage(ddb, tableName, 'charlie', 'Pizza!', question.message_id);
    return [hello, question, reply];
  } finally {
    ddb.destroy();
  }
}

if (isMain(import.meta.url)) {
  const target = resolveTarget();
  console.log(`Inserting sample messages (${describeTarget(target)})`);
  insertSampleMessages(target).then(
    (messages) => {
      for (const m of messages)
        console.log(
          `  ${m.message_id}  ${m.author}: ${m.content}${m.reply_to_message_id ? `  (reply to ${m.reply_to_message_id})` : ''}`,
        );
      console.log('Each insert triggers a notification: check the SQS queue (npm run end-to-end-test) or your inbox.');
    },
    (e) => {
      console.error(`insert-messages failed: ${e instanceof Error ? e.message : e}`);
      process.exit(1);
    },
  );
}
