import type { Clock } from '../core/clock.ts';
import type { RequestContext } from '../core/context.ts';
import { AwsError, internalFailure, isAwsError, unknownOperation } from '../core/errors.ts';
import { accountFromAccessKey, dynamoRequestId, uuid } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { loadModel, type ServiceModel } from '../model/model.ts';
import { validateInput } from '../model/validate.ts';
import { credentialScope, detect } from '../protocol/detect.ts';
import { jsonCodec } from '../protocol/json.ts';
import { queryCodec } from '../protocol/query.ts';
import { restJsonCodec } from '../protocol/rest-json.ts';
import { restXmlCodec } from '../protocol/rest-xml.ts';
import { rpcV2CborCodec } from '../protocol/rpc-v2-cbor.ts';
import type { Codec, Detected, ProtocolName, RawRequest, RawResponse } from '../protocol/types.ts';
import { type AuthMode, type Credentials, verifySigV4 } from './auth.ts';
import type { ServiceImpl } from './service.ts';

export interface GatewayOptions {
  services: Record<string, ServiceImpl>;
  clock: Clock;
  logger: Logger;
  auth: AuthMode;
  credentials: Credentials[];
  defaultAccount: string;
  defaultRegion: string;
  /** Routes outside the AWS APIs (`/_eddy/...`); return undefined to fall through. */
  internal?: (req: RawRequest) => Promise<RawResponse | undefined> | RawResponse | undefined;
}

const CODECS: Partial<Record<ProtocolName, Codec>> = {
  json: jsonCodec,
  query: queryCodec,
  'rest-json': restJsonCodec,
  'rest-xml': restXmlCodec,
  'rpc-v2-cbor': rpcV2CborCodec,
};

/**
 * The request chain, in one place: id -> detect -> parse -> auth -> validate -> dispatch -> serialize.
 * Every failure becomes the protocol's AWS error envelope; nothing here knows any service's logic.
 */
export function createGateway(opts: GatewayOptions) {
  const routed = Object.values(opts.services).filter((s) => s.routes);
  /** Asked by the server before reading a body: does this route take it unbuffered (S3 object uploads)? */
  const streams = (req: RawRequest): boolean => {
    if (req.method !== 'PUT') return false; // only uploads stream; keep every other request's path short
    const detected = detect(req);
    const codec = detected && CODECS[detected.protocol];
    return !!detected && !!codec?.streams && !!opts.services[detected.service] && codec.streams(req, detected);
  };
  return Object.assign(handle, { streams });
  async function handle(req: RawRequest): Promise<RawResponse> {
    const internal = opts.internal && (await opts.internal(req));
    if (internal) return internal;
    for (const impl of routed) {
      const res = await impl.routes!(req);
      if (res) return res;
    }

    const detected = detect(req);
    const requestId = detected?.service === 'dynamodb' ? dynamoRequestId() : uuid();
    if (!detected) return unknownServiceResponse(requestId);
    const codec = CODECS[detected.protocol];
    const impl = opts.services[detected.service];
    let model: ServiceModel | undefined;
    try {
      if (!impl || !codec) {
        if (detected.protocol === 'json' || !codec) throw unknownOperation();
        throw new AwsError(
          'InvalidAction',
          `The action or operation requested is not supported by this endpoint.`,
          400,
        );
      }
      model = loadModel(impl.model);
      const { operation, input } = codec.parse(req, model, detected);
      const handler = impl.operations[operation];
      if (!handler || !model.operations[operation]) {
        if (detected.protocol === 'json') throw unknownOperation();
        throw new AwsError(
          'InvalidAction',
          `Could not find operation ${operation} for version ${model.metadata.apiVersion}`,
          400,
        );
      }
      const scope = credentialScope(req);
      if (opts.auth === 'sigv4') await verifySigV4(req, detected, opts.credentials, opts.clock.now());
      const ctx: RequestContext = {
        requestId,
        accountId: accountFromAccessKey(scope?.accessKeyId, opts.defaultAccount),
        region: scope?.region ?? opts.defaultRegion,
        service: detected.service,
        operation,
        accessKeyId: scope?.accessKeyId,
        clock: opts.clock,
        endpoint: `http://${req.host}`,
      };
      const opModel = model.operations[operation];
      if (opModel.input && !impl.selfValidating?.has(operation)) validateInput(model, opModel.input.shape, input);
      let output = handler(input, ctx);
      if (output instanceof Promise) output = await output;
      return codec.serialize(model, operation, output, requestId);
    } catch (e) {
      const err = isAwsError(e) ? e : toInternal(e, opts.logger, detected);
      return (codec ?? jsonCodec).serializeError(model, err, requestId, detected);
    }
  }
}

function toInternal(e: unknown, logger: Logger, detected: Detected): AwsError {
  // Input nested deeper than any AWS limit can exhaust the stack of a recursive walk: that is the
  // caller's error, not ours.
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return new AwsError('SerializationException', 'Request payload nesting is too deep', 400, {
      type: 'com.amazon.coral.service#SerializationException',
    });
  }
  logger.error('internal error', {
    service: detected.service,
    error: e instanceof Error ? (e.stack ?? e.message) : String(e),
  });
  // DynamoDB names its 500 InternalServerError; the other services say InternalFailure.
  return detected.service === 'dynamodb' || detected.service === 'dynamodbstreams'
    ? new AwsError('InternalServerError', 'Internal server error', 500)
    : internalFailure();
}

function unknownServiceResponse(requestId: string): RawResponse {
  // No service matched: answer as the JSON services answer an unknown target.
  const err = unknownOperation();
  return jsonCodec.serializeError(undefined, err, requestId, { service: 'unknown', protocol: 'json' });
}
