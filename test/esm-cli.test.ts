/** The real `aws` CLI against Eddy's event source mapping operations (skipped visibly without it). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hub, Kit } from './esm-helpers.ts';
import { aws, hasAwsCli } from './helpers/aws-cli.ts';

const hub = new Hub();
const kit = new Kit(hub);
beforeAll(async () => {
  await hub.start();
  await kit.start();
});
afterAll(async () => {
  await kit.stop();
  await hub.stop();
});

describe.skipIf(!hasAwsCli)('aws lambda *-event-source-mapping(s)', () => {
  it('creates, lists (seed 000 troubleshooting command), gets, updates and deletes', async () => {
    const arn = await kit.table('cli-table');
    await kit.fn('cli-fn');
    const dlq = await kit.queue('cli-dlq');
    const e = kit.eddy.endpoint;
    const created = await aws(e, [
      'lambda',
      'create-event-source-mapping',
      '--function-name',
      'cli-fn',
      '--event-source-arn',
      arn,
      '--starting-position',
      'LATEST',
      '--batch-size',
      '10',
      '--maximum-batching-window-in-seconds',
      '5',
      '--bisect-batch-on-function-error',
      '--maximum-retry-attempts',
      '3',
      '--destination-config',
      JSON.stringify({ OnFailure: { Destination: dlq.arn } }),
    ]);
    expect(created).toMatchObject({
      State: 'Creating',
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 5,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      DestinationConfig: { OnFailure: { Destination: dlq.arn } },
    });
    expect(typeof created.LastModified).toBe('number');
    await kit.clock.advance(0);
    const listed = await aws(e, ['lambda', 'list-event-source-mappings', '--function-name', 'cli-fn']);
    expect(listed.EventSourceMappings).toHaveLength(1);
    expect(listed.EventSourceMappings[0]).toMatchObject({ UUID: created.UUID, State: 'Enabled' });
    const updated = await aws(e, [
      'lambda',
      'update-event-source-mapping',
      '--uuid',
      created.UUID,
      '--batch-size',
      '50',
      '--no-enabled',
    ]);
    expect(updated).toMatchObject({ State: 'Disabling', BatchSize: 50 });
    await kit.clock.advance(0);
    expect((await aws(e, ['lambda', 'delete-event-source-mapping', '--uuid', created.UUID])).State).toBe('Deleting');
    await kit.clock.advance(0);
    await expect(aws(e, ['lambda', 'get-event-source-mapping', '--uuid', created.UUID])).rejects.toThrow(
      /ResourceNotFoundException/,
    );
  }, 90_000);
});
