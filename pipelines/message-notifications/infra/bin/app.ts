/** The message-notifications CDK app: `npm run synth`, `npm run cdk -- deploy -c notificationEmail=you@example.com`. */
import { App } from 'aws-cdk-lib';
import { configFromContext } from '../lib/config.ts';
import { MessageNotificationsStack } from '../lib/message-notifications-stack.ts';

const app = new App();
const config = configFromContext(app.node);
new MessageNotificationsStack(app, 'MessageNotifications', {
  stackName: config.stackName,
  description: 'Message notifications: DynamoDB Streams on the messages table -> Lambda -> SNS (email + SQS), with DLQ',
  config,
});
app.synth();
