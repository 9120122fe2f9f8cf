import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Eddy, type EddyOptions, startEddy } from '../../src/index.ts';

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** An in-memory Eddy on a free port for one test file. */
export async function startTestEddy(opts: EddyOptions = {}): Promise<Eddy> {
  return startEddy({ port: 0, memory: true, logLevel: 'error', ...opts });
}

export function dynamoClient(eddy: Eddy, region = 'us-east-1'): DynamoDBClient {
  return new DynamoDBClient({ endpoint: eddy.endpoint, region, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
}
