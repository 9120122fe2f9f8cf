import type { Readable } from 'node:stream';
import type { AwsError } from '../core/errors.ts';
import type { ServiceModel } from '../model/model.ts';

/** One HTTP request as the gateway sees it. */
export interface RawRequest {
  method: string;
  /** Path without the query string, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  /** Raw query string (for signature checks). */
  rawQuery: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
  /**
   * The unread body, for routes whose codec asked to stream (`Codec.streams`: S3 PutObject /
   * UploadPart); `body` is then empty. Everything else arrives buffered in `body`.
   */
  stream?: Readable;
  /** host:port the client addressed. */
  host: string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** A Readable streams (S3 GetObject); its length must be in `content-length`. */
  body: Buffer | string | Readable;
}

export type ProtocolName = 'json' | 'query' | 'rest-json' | 'rest-xml' | 'rpc-v2-cbor';

export interface Detected {
  service: string;
  protocol: ProtocolName;
  /** Known at detection for json (X-Amz-Target); query codecs find it in the body. */
  operation?: string;
}

/** A codec turns bytes into a typed input and typed results or errors back into bytes. */
export interface Codec {
  /** Find the operation (if detection could not) and decode the input. */
  parse(
    req: RawRequest,
    model: ServiceModel,
    detected: Detected,
  ): { operation: string; input: Record<string, unknown> };
  serialize(model: ServiceModel, operation: string, output: unknown, requestId: string): RawResponse;
  serializeError(model: ServiceModel | undefined, err: AwsError, requestId: string, detected: Detected): RawResponse;
  /** Whether this request's body should reach `parse` unbuffered, as `RawRequest.stream` (asked before the body is read). */
  streams?(req: RawRequest, detected: Detected): boolean;
}
