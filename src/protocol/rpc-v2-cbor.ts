import { createRequire } from 'node:module';

// The CBOR codec is loaded on the first CBOR request, not at startup.
type CborModule = typeof import('@smithy/core/cbor');
let cborModule: CborModule | undefined;
const lib = () => (cborModule ??= createRequire(import.meta.url)('@smithy/core/cbor') as CborModule);

import { AwsError, serialization } from '../core/errors.ts';
import type { Codec, RawResponse } from './types.ts';

/** Smithy shape-id namespaces of the services that speak RPC v2 CBOR, by endpoint prefix. */
const NAMESPACES: Record<string, string> = {
  monitoring: 'com.amazonaws.cloudwatch',
  cloudwatch: 'com.amazonaws.cloudwatch',
};

/**
 * Smithy RPC v2 CBOR: `POST /service/<Service>/operation/<Op>` with `smithy-protocol: rpc-v2-cbor`,
 * CBOR maps in and out, timestamps as tag 1 (epoch seconds), errors as a map with `__type`
 * (a shape id) and `message`. Services see plain objects with `Date`s, as from every other codec.
 */
export const rpcV2CborCodec: Codec = {
  parse(req, _model, detected) {
    let input: unknown = {};
    if (req.body.length) {
      const ct = req.headers['content-type'] ?? '';
      if (ct && !ct.startsWith('application/cbor'))
        throw new AwsError('UnsupportedMediaTypeException', `Unsupported content type: ${ct}`, 415);
      try {
        input = fromCbor(lib().cbor.deserialize(new Uint8Array(req.body.buffer, req.body.byteOffset, req.body.length)));
      } catch {
        throw serialization('Unable to parse the request body as CBOR');
      }
    }
    if (input === null || input === undefined) input = {};
    if (typeof input !== 'object' || Array.isArray(input) || input instanceof Date || input instanceof Uint8Array)
      throw serialization('Start of structure or map found where not expected');
    return { operation: detected.operation!, input: input as Record<string, unknown> };
  },
  serialize(model, operation, output, requestId) {
    const hasOutput = !!model.operations[operation]?.output;
    const body = hasOutput ? Buffer.from(lib().cbor.serialize(toCbor(output ?? {}))) : Buffer.alloc(0);
    return cborResponse(200, body, requestId, hasOutput);
  },
  serializeError(model, err, requestId, detected) {
    const ns = NAMESPACES[model?.metadata.endpointPrefix ?? detected.service] ?? 'com.amazonaws';
    const type = err.type?.includes('#') ? err.type : `${ns}#${err.type ?? err.code}`;
    const body: Record<string, unknown> = { __type: type, ...err.extra };
    if (err.message) body.message = err.message;
    const res = cborResponse(err.status, Buffer.from(lib().cbor.serialize(toCbor(body))), requestId, true);
    Object.assign(res.headers, err.headers);
    return res;
  },
};

function cborResponse(status: number, body: Buffer, requestId: string, typed: boolean): RawResponse {
  const headers: Record<string, string> = { 'smithy-protocol': 'rpc-v2-cbor', 'x-amzn-requestid': requestId };
  if (typed) headers['content-type'] = 'application/cbor';
  return { status, headers, body };
}

/** Decoded CBOR to plain values: tag 1 (epoch seconds) becomes a Date; byte strings become Buffers. */
function fromCbor(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(fromCbor);
  const o = v as Record<string | symbol, unknown>;
  if ('tag' in o && 'value' in o && Object.getOwnPropertySymbols(o).length) {
    if (Number(o.tag) === 1) return new Date(Number(o.value) * 1000);
    return fromCbor(o.value);
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = fromCbor(x);
  return out;
}

/** Plain output to encodable CBOR values: Dates as tag 1, nulls and undefined members left out. */
function toCbor(v: unknown): unknown {
  if (v instanceof Date) return lib().tag({ tag: 1, value: v.getTime() / 1000 });
  if (v === null || typeof v !== 'object') return v;
  if (Buffer.isBuffer(v)) return new Uint8Array(v.buffer, v.byteOffset, v.length);
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(toCbor);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined && x !== null) out[k] = toCbor(x);
  return out;
}
