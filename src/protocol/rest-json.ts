import { AwsError } from '../core/errors.ts';
import type { MemberRef, ServiceModel, Shape } from '../model/model.ts';
import type { Codec, RawResponse } from './types.ts';

/**
 * restJson1 (Lambda, and later API-style services): the operation is found from the HTTP method and
 * the model's `requestUri` templates; members are bound from the URI (`{Name}`, greedy `{Name+}`),
 * the query string, headers and the JSON body (or a raw payload member). Responses put header- and
 * status-bound members where the model says and the rest in a JSON body. Errors carry
 * `x-amzn-ErrorType` and a body in the shape the service's model declares (`{"Type":"User","Message"}`
 * for Lambda's own exceptions, `{"message"}` for the common ones).
 */

interface Route {
  operation: string;
  method: string;
  /** Path segments: literal strings or labels. */
  segments: ({ literal: string } | { label: string; greedy: boolean })[];
  /** Literal query parameters the route requires (`?find=LayerVersion`). */
  query: [string, string][];
  literals: number;
}

const routeCache = new WeakMap<ServiceModel, Route[]>();

function routesOf(model: ServiceModel): Route[] {
  let routes = routeCache.get(model);
  if (routes) return routes;
  routes = [];
  for (const [operation, op] of Object.entries(model.operations)) {
    const [pathPart, queryPart] = op.http.requestUri.split('?');
    const segments: Route['segments'] = [];
    let literals = 0;
    for (const seg of pathPart.split('/').slice(1)) {
      const m = /^\{([^}+]+)(\+?)\}$/.exec(seg);
      if (m) segments.push({ label: m[1], greedy: m[2] === '+' });
      else {
        segments.push({ literal: seg });
        literals++;
      }
    }
    const query: [string, string][] = [];
    if (queryPart) for (const [k, v] of new URLSearchParams(queryPart)) query.push([k, v]);
    routes.push({ operation, method: op.http.method, segments, query, literals });
  }
  // Most specific first: more literal segments, then required query literals.
  routes.sort(
    (a, b) => b.literals - a.literals || b.query.length - a.query.length || a.segments.length - b.segments.length,
  );
  routeCache.set(model, routes);
  return routes;
}

/** Match a request path (still percent-encoded) against the model's routes. */
export function matchRoute(
  model: ServiceModel,
  method: string,
  path: string,
  query: URLSearchParams,
): { operation: string; labels: Record<string, string> } | undefined {
  const parts = path.split('/').slice(1);
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  for (const r of routesOf(model)) {
    if (r.method !== method) continue;
    if (r.query.some(([k, v]) => query.get(k) !== v)) continue;
    const labels = bind(r, parts);
    if (labels) return { operation: r.operation, labels };
  }
  return undefined;
}

function bind(r: Route, parts: string[]): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  let i = 0;
  for (let s = 0; s < r.segments.length; s++) {
    const seg = r.segments[s];
    if ('literal' in seg) {
      if (parts[i] !== seg.literal) return undefined;
      i++;
      continue;
    }
    if (seg.greedy) {
      const rest = parts.length - (r.segments.length - s - 1);
      if (rest <= i) return undefined;
      labels[seg.label] = parts.slice(i, rest).map(decode).join('/');
      i = rest;
      continue;
    }
    if (parts[i] === undefined || parts[i] === '') return undefined;
    labels[seg.label] = decode(parts[i]);
    i++;
  }
  return i === parts.length ? labels : undefined;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function badBody(model: ServiceModel, detail: string): AwsError {
  if (model.shapes.InvalidRequestContentException) {
    return new AwsError('InvalidRequestContentException', `Could not parse request body into json: ${detail}`, 400);
  }
  return new AwsError('SerializationException', detail, 400);
}

/** Header / query string text to the member's type. */
function scalarFrom(model: ServiceModel, ref: MemberRef, raw: string): unknown {
  const shape = model.shapes[ref.shape];
  switch (shape?.type) {
    case 'integer':
    case 'long':
    case 'double':
    case 'float': {
      const n = Number(raw);
      return Number.isNaN(n) ? raw : n;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'timestamp': {
      const n = Number(raw);
      return Number.isNaN(n) ? new Date(raw) : new Date(n * 1000);
    }
    case 'blob':
      return Buffer.from(raw, 'base64');
    default:
      if (ref.jsonvalue) {
        try {
          return JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
        } catch {
          return raw;
        }
      }
      return raw;
  }
}

/** JSON body value to the input's types: blobs arrive base64-encoded. */
function fromJson(model: ServiceModel, shapeName: string, v: unknown, depth = 0): unknown {
  const shape: Shape | undefined = model.shapes[shapeName];
  if (!shape || v === null || v === undefined || depth > 40) return v;
  switch (shape.type) {
    case 'blob':
      return typeof v === 'string' ? Buffer.from(v, 'base64') : v;
    case 'structure': {
      if (typeof v !== 'object' || Array.isArray(v)) return v;
      const o = v as Record<string, unknown>;
      for (const [name, ref] of Object.entries(shape.members ?? {})) {
        if (o[name] !== undefined) o[name] = fromJson(model, ref.shape, o[name], depth + 1);
      }
      return o;
    }
    case 'list':
      return Array.isArray(v) ? v.map((x) => fromJson(model, shape.member!.shape, x, depth + 1)) : v;
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) return v;
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = fromJson(model, shape.value!.shape, o[k], depth + 1);
      return o;
    }
    default:
      return v;
  }
}

function replacer(this: Record<string, unknown>, key: string, value: unknown) {
  const raw = this[key];
  if (raw instanceof Date) return raw.getTime() / 1000;
  if (Buffer.isBuffer(raw)) return raw.toString('base64');
  return value;
}

export const restJsonCodec: Codec = {
  parse(req, model) {
    const match = matchRoute(model, req.method, req.path, req.query);
    if (!match) throw new AwsError('UnknownOperationException', 'Unknown operation', 404);
    const op = model.operations[match.operation];
    const input: Record<string, unknown> = {};
    const shape = op.input ? model.shapes[op.input.shape] : undefined;
    if (!shape) return { operation: match.operation, input };
    const bodyMembers: string[] = [];
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const loc = ref.locationName ?? name;
      switch (ref.location) {
        case 'uri':
          if (match.labels[loc] !== undefined) input[name] = scalarFrom(model, ref, match.labels[loc]);
          break;
        case 'querystring': {
          const target = model.shapes[ref.shape];
          if (target?.type === 'list') {
            const all = req.query.getAll(loc);
            if (all.length) input[name] = all.map((x) => scalarFrom(model, target.member!, x));
          } else if (target?.type === 'map') {
            const m: Record<string, string> = {};
            for (const [k, v] of req.query) m[k] = v;
            input[name] = m;
          } else {
            const v = req.query.get(loc);
            if (v !== null) input[name] = scalarFrom(model, ref, v);
          }
          break;
        }
        case 'header': {
          const v = req.headers[loc.toLowerCase()];
          if (v !== undefined) input[name] = scalarFrom(model, ref, v);
          break;
        }
        case 'headers': {
          const prefix = loc.toLowerCase();
          const m: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) if (k.startsWith(prefix)) m[k.slice(prefix.length)] = v;
          if (Object.keys(m).length) input[name] = m;
          break;
        }
        default:
          bodyMembers.push(name);
      }
    }
    if (shape.payload) {
      const ref = shape.members![shape.payload];
      const target = model.shapes[ref.shape];
      if (target?.type === 'blob') {
        if (req.body.length) input[shape.payload] = req.body;
      } else if (target?.type === 'string') {
        if (req.body.length) input[shape.payload] = req.body.toString('utf8');
      } else if (req.body.length) {
        input[shape.payload] = fromJson(model, ref.shape, parseJson(model, req.body));
      }
      return { operation: match.operation, input };
    }
    if (bodyMembers.length && req.body.length) {
      const body = parseJson(model, req.body);
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw badBody(model, 'Unexpected body: expected a JSON object');
      for (const name of bodyMembers) {
        const v = (body as Record<string, unknown>)[name];
        if (v !== undefined) input[name] = fromJson(model, shape.members![name].shape, v);
      }
    }
    return { operation: match.operation, input };
  },

  serialize(model, operation, output, requestId) {
    const op = model.operations[operation];
    let status = op?.http.responseCode ?? 200;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': requestId };
    const shape = op?.output ? model.shapes[op.output.shape] : undefined;
    if (output === undefined || output === null || !shape) {
      return { status, headers, body: status === 204 ? '' : '{}' };
    }
    const out = output as Record<string, unknown>;
    const body: Record<string, unknown> = {};
    let payload: Buffer | string | undefined;
    for (const [name, v] of Object.entries(out)) {
      if (v === undefined) continue;
      const ref = shape.members?.[name];
      if (!ref) continue;
      if (ref.location === 'statusCode') status = Number(v);
      else if (ref.location === 'header')
        headers[(ref.locationName ?? name).toLowerCase()] = v instanceof Date ? v.toUTCString() : String(v);
      else if (ref.location === 'headers') {
        for (const [k, hv] of Object.entries(v as Record<string, string>))
          headers[`${(ref.locationName ?? '').toLowerCase()}${k}`] = String(hv);
      } else if (shape.payload === name) {
        payload = Buffer.isBuffer(v) ? v : typeof v === 'string' ? v : JSON.stringify(v, replacer);
      } else body[name] = v;
    }
    if (shape.payload) return { status, headers, body: payload ?? '' };
    return { status, headers, body: status === 204 && !Object.keys(body).length ? '' : JSON.stringify(body, replacer) };
  },

  serializeError(model, err, requestId) {
    const code = err.code;
    const errShape = model?.shapes[code];
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': code,
      ...err.headers,
    };
    const body: Record<string, unknown> = errShape?.members?.Message
      ? { Type: err.sender ? 'User' : 'Service', Message: err.message, ...err.extra }
      : { message: err.message || null, ...err.extra };
    return { status: err.status, headers, body: JSON.stringify(body) } satisfies RawResponse;
  },
};

function parseJson(model: ServiceModel, body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw badBody(model, e instanceof Error ? e.message : 'invalid JSON');
  }
}
