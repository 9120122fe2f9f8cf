import { cbor, tag } from '@smithy/core/cbor';
import { describe, expect, it } from 'vitest';
import { AwsError } from '../core/errors.ts';
import { loadModel } from '../model/model.ts';
import { rpcV2CborCodec } from './rpc-v2-cbor.ts';
import type { RawRequest } from './types.ts';

const model = loadModel('cloudwatch');
const detected = { service: 'cloudwatch', protocol: 'rpc-v2-cbor' as const, operation: 'GetMetricStatistics' };
const req = (body: Uint8Array | Buffer, contentType = 'application/cbor'): RawRequest => ({
  method: 'POST',
  path: '/service/GraniteServiceVersion20100801/operation/GetMetricStatistics',
  query: new URLSearchParams(),
  rawQuery: '',
  headers: { 'smithy-protocol': 'rpc-v2-cbor', 'content-type': contentType },
  body: Buffer.from(body),
  host: 'localhost',
});

describe('Smithy RPC v2 CBOR codec', () => {
  it('decodes maps, tag-1 timestamps (to Date) and nested lists', () => {
    const body = cbor.serialize({
      Namespace: 'App',
      StartTime: tag({ tag: 1, value: 1767268800.5 }),
      Dimensions: [{ Name: 'a', Value: 'b' }],
      Period: 60,
    });
    const { operation, input } = rpcV2CborCodec.parse(req(body), model, detected);
    expect(operation).toBe('GetMetricStatistics');
    expect(input).toEqual({
      Namespace: 'App',
      StartTime: new Date(1767268800500),
      Dimensions: [{ Name: 'a', Value: 'b' }],
      Period: 60,
    });
    expect(rpcV2CborCodec.parse(req(Buffer.alloc(0)), model, detected).input).toEqual({});
  });
  it('refuses bodies that are not CBOR maps', () => {
    expect(() => rpcV2CborCodec.parse(req(Buffer.from([0xff, 0x00])), model, detected)).toThrow(AwsError);
    expect(() => rpcV2CborCodec.parse(req(cbor.serialize([1, 2])), model, detected)).toThrow(/structure/);
    expect(() => rpcV2CborCodec.parse(req(cbor.serialize({}), 'application/json'), model, detected)).toThrow(
      /content type/,
    );
  });
  it('encodes outputs (Dates as tag 1, nulls dropped) with the smithy-protocol header', () => {
    const res = rpcV2CborCodec.serialize(
      model,
      'GetMetricStatistics',
      { Label: 'M', Datapoints: [{ Timestamp: new Date(1767268800000), Sum: 1.5, Unit: undefined, Average: null }] },
      'req-1',
    );
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({
      'smithy-protocol': 'rpc-v2-cbor',
      'content-type': 'application/cbor',
      'x-amzn-requestid': 'req-1',
    });
    const back = cbor.deserialize(new Uint8Array(res.body as Buffer));
    expect(back.Label).toBe('M');
    expect(back.Datapoints[0].Sum).toBe(1.5);
    expect(Object.keys(back.Datapoints[0]).sort()).toEqual(['Sum', 'Timestamp']);
    expect(back.Datapoints[0].Timestamp).toMatchObject({ tag: 1, value: 1767268800 });
    // Operations without output answer an empty body.
    expect((rpcV2CborCodec.serialize(model, 'PutMetricData', {}, 'r').body as Buffer).length).toBe(0);
  });
  it('encodes errors with a shape-id __type, message and the query-compatible header', () => {
    const err = new AwsError('ResourceNotFound', 'gone', 404, { type: 'com.amazonaws.cloudwatch#ResourceNotFound' });
    err.headers = { 'x-amzn-query-error': 'ResourceNotFound;Sender' };
    const res = rpcV2CborCodec.serializeError(model, err, 'r', detected);
    expect(res.status).toBe(404);
    expect(res.headers['x-amzn-query-error']).toBe('ResourceNotFound;Sender');
    expect(cbor.deserialize(new Uint8Array(res.body as Buffer))).toEqual({
      __type: 'com.amazonaws.cloudwatch#ResourceNotFound',
      message: 'gone',
    });
    const plain = rpcV2CborCodec.serializeError(model, new AwsError('Throttling', 'slow', 400), 'r', detected);
    expect(cbor.deserialize(new Uint8Array(plain.body as Buffer)).__type).toBe('com.amazonaws.cloudwatch#Throttling');
  });
});
