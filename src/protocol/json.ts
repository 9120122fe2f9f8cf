import { isUtf8 } from 'node:buffer';
import { crc32 } from 'node:zlib';
import { type AwsError, serialization } from '../core/errors.ts';
import type { ServiceModel, Shape } from '../model/model.ts';
import type { Codec, RawResponse } from './types.ts';

/** `__type` namespaces the JSON services put before an error code. */
const ERROR_NAMESPACES: Record<string, string> = {
  dynamodb: 'com.amazonaws.dynamodb.v20120810#',
  streams: 'com.amazonaws.dynamodb.v20120810#',
  sqs: 'com.amazonaws.sqs#',
  logs: 'com.amazonaws.logs#',
  kinesis: 'com.amazonaws.kinesis#',
  events: 'com.amazonaws.events#',
};

/** awsJson1_0 / awsJson1_1: one POST with X-Amz-Target; JSON in, JSON out; timestamps as epoch seconds. */
export const jsonCodec: Codec = {
  parse(req, _model, detected) {
    let input: unknown = {};
    if (req.body.length) {
      if (!isUtf8(req.body)) throw serialization('Invalid UTF-8 middle byte');
      try {
        input = JSON.parse(req.body.toString('utf8'));
      } catch {
        throw serialization('Start of structure or map found where not expected');
      }
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      throw serialization('Start of structure or map found where not expected');
    return { operation: detected.operation!, input: input as Record<string, unknown> };
  },
  serialize(model, operation, output, requestId) {
    const shapeName = model.operations[operation]?.output?.shape;
    const body =
      output === undefined
        ? '{}'
        : hasTimestamps(model, shapeName)
          ? JSON.stringify(output, dateReplacer)
          : JSON.stringify(output);
    return jsonResponse(model, 200, body, requestId);
  },
  serializeError(model, err, requestId, detected) {
    const ns = ERROR_NAMESPACES[model?.metadata.endpointPrefix ?? detected.service] ?? '';
    const type = err.type ?? `${ns}${err.code}`;
    const body = JSON.stringify({ __type: type, message: err.message || undefined, ...err.extra });
    const res = jsonResponse(model, err.status, body, requestId);
    Object.assign(res.headers, err.headers);
    return res;
  },
};

function jsonResponse(model: ServiceModel | undefined, status: number, body: string, requestId: string): RawResponse {
  const buf = Buffer.from(body, 'utf8');
  const headers: Record<string, string> = {
    'content-type': `application/x-amz-json-${model?.metadata.jsonVersion ?? '1.0'}`,
    'x-amzn-requestid': requestId,
  };
  // DynamoDB's SDKs check this checksum of the body.
  if (!model || model.metadata.endpointPrefix === 'dynamodb') headers['x-amz-crc32'] = String(crc32(buf));
  return { status, headers, body: buf };
}

function dateReplacer(this: Record<string, unknown>, key: string, value: unknown) {
  const raw = this[key];
  return raw instanceof Date ? raw.getTime() / 1000 : value;
}

const timestampCache = new WeakMap<ServiceModel, Map<string, boolean>>();
/** Whether an output shape can hold a timestamp (then Dates need converting; else plain stringify). */
export function hasTimestamps(model: ServiceModel, shapeName: string | undefined): boolean {
  if (!shapeName) return false;
  let byShape = timestampCache.get(model);
  if (!byShape) timestampCache.set(model, (byShape = new Map()));
  let r = byShape.get(shapeName);
  if (r === undefined) {
    r = walk(model, shapeName, new Set());
    byShape.set(shapeName, r);
  }
  return r;
}

function walk(model: ServiceModel, name: string, seen: Set<string>): boolean {
  if (seen.has(name)) return false;
  seen.add(name);
  const s: Shape | undefined = model.shapes[name];
  if (!s) return false;
  if (s.type === 'timestamp') return true;
  const refs = [...Object.values(s.members ?? {}), s.member, s.key, s.value].filter(Boolean);
  return refs.some((r) => walk(model, r!.shape, seen));
}

export type { AwsError };
