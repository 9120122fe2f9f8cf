/** The change-capture CDK app: `npm run synth`, `npm run cdk -- deploy -c notificationEmail=you@example.com`. */
import { App } from 'aws-cdk-lib';
import { ChangeCaptureStack } from '../lib/change-capture-stack.ts';
import { configFromContext } from '../lib/config.ts';

const app = new App();
const config = configFromContext(app.node);
new ChangeCaptureStack(app, 'ChangeCapture', {
  stackName: config.stackName,
  description: 'Capture user-activity changes with DynamoDB Streams: Lambda, SNS notifications, S3 audit log, SQS DLQ',
  config,
});
app.synth();
