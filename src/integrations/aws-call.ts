import type { RequestContext } from '../core/context.ts';
import { AwsError } from '../core/errors.ts';
import { loadModel, type ServiceModel } from '../model/model.ts';
import { validateInput } from '../model/validate.ts';

/** The part of a `ServiceImpl` an in-process call needs (structural: no import from the gateway layer). */
interface CallableService {
  model: string;
  operations: Record<string, (input: any, ctx: RequestContext) => unknown>;
  selfValidating?: Set<string>;
}

/**
 * Calls another service's operation by name, in process: the same model validation the gateway
 * applies, without HTTP. Input arrives as JSON-shaped data (what a template or an SDK's JSON would
 * hold); it is coerced to the model's types the way the service's codec would decode it (numbers and
 * booleans from strings, blobs to Buffers, timestamps to Dates for the non-JSON protocols).
 */
export interface AwsCall {
  call(service: string, operation: string, input: Record<string, unknown>, ctx: RequestContext): Promise<any>;
  /** Whether a service is served and implements an operation. */
  has(service: string, operation?: string): boolean;
}

export function createAwsCall(services: Record<string, CallableService>): AwsCall {
  return {
    has(service, operation) {
      const impl = services[service];
      if (!impl) return false;
      return operation === undefined || !!impl.operations[operation];
    },
    async call(service, operation, input, ctx) {
      const impl = services[service];
      if (!impl) throw new AwsError('UnknownService', `Service ${service} is not served by Eddy`, 400);
      const handler = impl.operations[operation];
      const model = loadModel(impl.model);
      const op = model.operations[operation];
      if (!handler || !op) {
        throw new AwsError('InvalidAction', `Operation ${operation} is not supported by ${service} in Eddy`, 400);
      }
      const json = model.metadata.protocol === 'json';
      const typed = op.input ? coerce(model, op.input.shape, clone(input), json, 0) : {};
      if (op.input && !impl.selfValidating?.has(operation))
        validateInput(model, op.input.shape, typed as Record<string, unknown>);
      const callCtx: RequestContext = { ...ctx, service, operation };
      return await handler(typed, callCtx);
    },
  };
}

function coerce(model: ServiceModel, shapeName: string, v: unknown, json: boolean, depth: number): unknown {
  const shape = model.shapes[shapeName];
  if (!shape || v === null || v === undefined || depth > 60) return v;
  switch (shape.type) {
    case 'structure': {
      if (typeof v !== 'object' || Array.isArray(v)) return v;
      const o = v as Record<string, unknown>;
      for (const [name, ref] of Object.entries(shape.members ?? {}))
        if (o[name] !== undefined) o[name] = coerce(model, ref.shape, o[name], json, depth + 1);
      return o;
    }
    case 'list':
      return Array.isArray(v) ? v.map((x) => coerce(model, shape.member!.shape, x, json, depth + 1)) : v;
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) return v;
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = coerce(model, shape.value!.shape, o[k], json, depth + 1);
      return o;
    }
    case 'integer':
    case 'long':
    case 'double':
    case 'float':
      return typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;
    case 'boolean':
      return v === 'true' ? true : v === 'false' ? false : v;
    case 'string':
      return typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
    case 'blob':
      if (json) return Buffer.isBuffer(v) ? v.toString('base64') : v;
      return typeof v === 'string' ? Buffer.from(v, 'base64') : v;
    case 'timestamp':
      if (json) return v instanceof Date ? v.getTime() / 1000 : v;
      return typeof v === 'number' ? new Date(v * 1000) : typeof v === 'string' ? new Date(v) : v;
    default:
      return v;
  }
}

/** A deep copy of JSON-shaped data that keeps Buffers and Dates as they are. */
function clone(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || v instanceof Date) return v;
  if (Array.isArray(v)) return v.map(clone);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = clone(x);
  return out;
}
