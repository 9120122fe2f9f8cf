import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { AwsError } from '../core/errors.ts';
import type { MemberRef, ServiceModel, Shape } from '../model/model.ts';
import { virtualHostBucket } from './detect.ts';
import type { Codec, Detected, RawRequest } from './types.ts';
import { escapeXml } from './xml.ts';

/**
 * restXml (S3): the operation is found from the method, the model's `requestUri` templates
 * (`/{Bucket}/{Key+}?uploads`) and which required querystring/header members the request carries
 * (UploadPart needs `partNumber` + `uploadId`, CopyObject `x-amz-copy-source`). Virtual-hosted
 * requests (`bucket.localhost:4566/key`) are rewritten to path style first. Members bind from the
 * URI, query string, headers, `x-amz-meta-*` header maps and an XML (or raw / streamed) payload;
 * outputs go back the same way, XML in the model's namespace. Errors are S3's
 * `<Error><Code/><Message/>…<RequestId/></Error>` with the error's status (HEAD answers carry no body).
 *
 * Conventions with services: an output may carry `$status` (206 for ranges) and a Readable `Body`
 * (with `ContentLength`); inputs carry `Body` as a Readable for streamed uploads.
 */

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

interface Route {
  operation: string;
  method: string;
  /** 0: `/`, 1: `/{Bucket}`, 2: `/{Bucket}/{Key+}`; -1: a literal path (`/WriteGetObjectResponse`). */
  depth: number;
  literalPath?: string;
  labels: string[];
  query: [string, string][];
  /** Required members the request must carry in the query string or headers. */
  required: { location: 'querystring' | 'header'; name: string }[];
}

/** Operations the model keeps twice (old and current form): the current one answers. */
const PREFERRED = new Set([
  'ListBuckets',
  'GetBucketLifecycleConfiguration',
  'PutBucketLifecycleConfiguration',
  'GetBucketNotificationConfiguration',
  'PutBucketNotificationConfiguration',
]);

const routeCache = new WeakMap<ServiceModel, Route[]>();

function routesOf(model: ServiceModel): Route[] {
  let routes = routeCache.get(model);
  if (routes) return routes;
  routes = [];
  for (const [operation, op] of Object.entries(model.operations)) {
    const [pathPart, queryPart] = op.http.requestUri.split('?');
    const segs = pathPart
      .split('/')
      .slice(1)
      .filter((s) => s !== '');
    const labels: string[] = [];
    let literalPath: string | undefined;
    for (const seg of segs) {
      const m = /^\{([^}+]+)\+?\}$/.exec(seg);
      if (m) labels.push(m[1]);
      else literalPath = pathPart;
    }
    const query: [string, string][] = [];
    if (queryPart) for (const [k, v] of new URLSearchParams(queryPart)) if (k !== 'x-id') query.push([k, v]);
    const required: Route['required'] = [];
    const shape = op.input ? model.shapes[op.input.shape] : undefined;
    for (const name of shape?.required ?? []) {
      const ref = shape?.members?.[name];
      if (ref?.location === 'querystring' || ref?.location === 'header') {
        const loc = ref.locationName ?? name;
        required.push({ location: ref.location, name: ref.location === 'header' ? loc.toLowerCase() : loc });
      }
    }
    routes.push({
      operation,
      method: op.http.method,
      depth: literalPath ? -1 : segs.length,
      literalPath,
      labels,
      query,
      required,
    });
  }
  routeCache.set(model, routes);
  return routes;
}

/** Bucket and key from a path-style path (after any virtual-host rewrite). */
export function splitPath(path: string): { bucket?: string; key?: string } {
  const p = path.startsWith('/') ? path.slice(1) : path;
  if (p === '') return {};
  const slash = p.indexOf('/');
  if (slash < 0) return { bucket: decode(p) };
  const bucket = decode(p.slice(0, slash));
  const key = p.slice(slash + 1);
  return key === '' ? { bucket } : { bucket, key: decode(key) };
}

/** The request path in path style: virtual-hosted requests get their bucket in front. */
export function pathStyle(req: RawRequest): string {
  const bucket = virtualHostBucket(req.host);
  return bucket === undefined ? req.path : `/${encodeURIComponent(bucket)}${req.path === '/' ? '' : req.path}`;
}

function findRoute(model: ServiceModel, req: RawRequest): { route: Route; bucket?: string; key?: string } | undefined {
  const path = pathStyle(req);
  const { bucket, key } = splitPath(path);
  const depth = key !== undefined ? 2 : bucket !== undefined ? 1 : 0;
  const lower = new Set(Object.keys(req.headers));
  let best: Route | undefined;
  let bestScore = -1;
  for (const r of routesOf(model)) {
    if (r.method !== req.method) continue;
    if (r.depth === -1 ? r.literalPath !== path : r.depth !== depth) continue;
    if (r.query.some(([k, v]) => (v === '' ? !req.query.has(k) : req.query.get(k) !== v))) continue;
    if (r.required.some((q) => (q.location === 'header' ? !lower.has(q.name) : !req.query.has(q.name)))) continue;
    const score = r.query.length * 100 + r.required.length * 2 + (PREFERRED.has(r.operation) ? 1 : 0);
    if (score > bestScore) {
      best = r;
      bestScore = score;
    }
  }
  return best && { route: best, bucket, key };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
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
      return raw.trim() === '' || Number.isNaN(n) ? raw : n;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'timestamp': {
      const d = /^\d+(\.\d+)?$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
      return Number.isNaN(d.getTime()) ? raw : d;
    }
    default:
      return raw;
  }
}

// fast-xml-parser is loaded on the first XML body (S3 configuration calls), not at startup.
let xml: { parser: import('fast-xml-parser').XMLParser; validate: (text: string) => true | object } | undefined;
function xmlParser() {
  if (!xml) {
    const { XMLParser, XMLValidator } = createRequire(import.meta.url)(
      'fast-xml-parser',
    ) as typeof import('fast-xml-parser');
    xml = {
      parser: new XMLParser({
        ignoreAttributes: true,
        removeNSPrefix: true,
        parseTagValue: false,
        trimValues: false,
        ignoreDeclaration: true,
        processEntities: true,
      }),
      validate: (t) => XMLValidator.validate(t),
    };
  }
  return xml;
}

/** Content-MD5 and `x-amz-checksum-*` headers of a buffered XML body (DeleteObjects, PutBucketLifecycle...) are verified as S3 does. */
function verifyBodyIntegrity(req: RawRequest): void {
  const md5 = req.headers['content-md5'];
  if (md5 !== undefined && createHash('md5').update(req.body).digest('base64') !== md5) {
    throw new AwsError('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
  }
  const sums: [string, () => string][] = [
    ['crc32', () => u32(zlib.crc32(req.body))],
    ['sha1', () => createHash('sha1').update(req.body).digest('base64')],
    ['sha256', () => createHash('sha256').update(req.body).digest('base64')],
  ];
  for (const [alg, compute] of sums) {
    const given = req.headers[`x-amz-checksum-${alg}`];
    if (given !== undefined && given !== compute()) {
      throw new AwsError(
        'BadDigest',
        `The ${alg.toUpperCase()} you specified did not match the calculated checksum.`,
        400,
      );
    }
  }
}

function u32(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b.toString('base64');
}

export const malformedXml = () =>
  new AwsError(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
    400,
  );

/** An XML document to a value of `shapeName`, as the model describes it. */
export function fromXmlDocument(
  model: ServiceModel,
  shapeName: string,
  body: Buffer | string,
  rootName?: string,
): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const { parser, validate } = xmlParser();
  if (validate(text) !== true) throw malformedXml();
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch {
    throw malformedXml();
  }
  const roots = Object.keys(doc).filter((k) => k !== '#text' && k !== '?xml');
  if (roots.length !== 1) throw malformedXml();
  if (rootName && roots[0] !== rootName) throw malformedXml();
  return fromXml(model, shapeName, doc[roots[0]], 0);
}

function fromXml(model: ServiceModel, shapeName: string, node: unknown, depth: number): unknown {
  const shape: Shape | undefined = model.shapes[shapeName];
  if (!shape || depth > 40) return node;
  switch (shape.type) {
    case 'structure': {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) {
        if (node === '' || typeof node === 'string') return {};
        throw malformedXml();
      }
      const o = node as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [name, ref] of Object.entries(shape.members ?? {})) {
        if (ref.location) continue;
        const target = model.shapes[ref.shape];
        if (target?.type === 'list' && (ref.flattened || target.flattened)) {
          const el = target.member?.locationName ?? ref.locationName ?? name;
          const v = o[el];
          if (v === undefined) continue;
          out[name] = (Array.isArray(v) ? v : [v]).map((x) => fromXml(model, target.member!.shape, x, depth + 1));
          continue;
        }
        const v = o[ref.locationName ?? name];
        if (v === undefined) continue;
        out[name] = fromXml(model, ref.shape, Array.isArray(v) ? v[v.length - 1] : v, depth + 1);
      }
      return out;
    }
    case 'list': {
      if (node === '' || node === undefined) return [];
      if (typeof node !== 'object' || node === null) throw malformedXml();
      const el = shape.member?.locationName ?? 'member';
      const v = (node as Record<string, unknown>)[el];
      if (v === undefined) return [];
      return (Array.isArray(v) ? v : [v]).map((x) => fromXml(model, shape.member!.shape, x, depth + 1));
    }
    case 'map':
      return node;
    default: {
      const text =
        typeof node === 'string'
          ? node
          : typeof node === 'object' && node !== null
            ? String((node as Record<string, unknown>)['#text'] ?? '')
            : String(node);
      return scalarFrom(model, { shape: shapeName }, text);
    }
  }
}

function isoMillis(d: Date): string {
  return d.toISOString();
}

function scalarText(v: unknown): string {
  if (v instanceof Date) return isoMillis(v);
  return String(v);
}

/** A value of `shapeName` as an XML element named `name`. */
export function toXml(model: ServiceModel, shapeName: string, v: unknown, name: string, ns?: string): string {
  const shape = model.shapes[shapeName];
  const open = ns ? `<${name} xmlns="${ns}">` : `<${name}>`;
  if (!shape || v === undefined || v === null) return '';
  switch (shape.type) {
    case 'structure': {
      let inner = '';
      let attrs = '';
      const o = v as Record<string, unknown>;
      for (const [member, ref] of Object.entries(shape.members ?? {})) {
        const mv = o[member];
        if (mv === undefined || mv === null || ref.location) continue;
        if (ref.xmlAttribute) attrs += ` ${ref.locationName ?? member}="${escapeXml(scalarText(mv))}"`;
        else inner += memberXml(model, member, ref, mv);
      }
      // Attribute members in a prefixed namespace (Grantee's xsi:type) declare it on the element.
      const shapeNs = (shape as Shape & { xmlNamespace?: { uri: string; prefix?: string } }).xmlNamespace;
      if (attrs && shapeNs?.prefix) attrs = ` xmlns:${shapeNs.prefix}="${shapeNs.uri}"${attrs}`;
      return `${attrs ? open.replace(/>$/, `${attrs}>`) : open}${inner}</${name}>`;
    }
    case 'list': {
      const el = shape.member?.locationName ?? 'member';
      let inner = '';
      for (const x of v as unknown[]) inner += toXml(model, shape.member!.shape, x, el);
      return `${open}${inner}</${name}>`;
    }
    default:
      return `${open}${escapeXml(scalarText(v))}</${name}>`;
  }
}

function memberXml(model: ServiceModel, member: string, ref: MemberRef, v: unknown): string {
  const target = model.shapes[ref.shape];
  if (target?.type === 'list' && (ref.flattened || target.flattened)) {
    const el = target.member?.locationName ?? ref.locationName ?? member;
    let out = '';
    for (const x of v as unknown[]) out += toXml(model, target.member!.shape, x, el);
    return out;
  }
  return toXml(model, ref.shape, v, ref.locationName ?? member);
}

/** Root element of a non-payload output (the model does not name them). */
const ROOTS: Record<string, string> = {
  ListBucketsOutput: 'ListAllMyBucketsResult',
  ListObjectsOutput: 'ListBucketResult',
  ListObjectsV2Output: 'ListBucketResult',
  ListObjectVersionsOutput: 'ListVersionsResult',
  ListMultipartUploadsOutput: 'ListMultipartUploadsResult',
  ListPartsOutput: 'ListPartsResult',
  CreateMultipartUploadOutput: 'InitiateMultipartUploadResult',
  CompleteMultipartUploadOutput: 'CompleteMultipartUploadResult',
  DeleteObjectsOutput: 'DeleteResult',
  GetObjectTaggingOutput: 'Tagging',
  GetBucketTaggingOutput: 'Tagging',
  GetBucketVersioningOutput: 'VersioningConfiguration',
  GetBucketLifecycleConfigurationOutput: 'LifecycleConfiguration',
  GetBucketNotificationConfigurationOutput: 'NotificationConfiguration',
  GetBucketCorsOutput: 'CORSConfiguration',
  GetBucketAclOutput: 'AccessControlPolicy',
  GetObjectAclOutput: 'AccessControlPolicy',
  GetObjectAttributesOutput: 'GetObjectAttributesResponse',
};

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

function headerText(v: unknown): string {
  return v instanceof Date ? v.toUTCString() : String(v);
}

/** S3's request ids are 16 upper-case hex characters (the gateway's uuid, shortened). */
export function s3RequestId(requestId: string): string {
  return requestId.replace(/-/g, '').slice(0, 16).toUpperCase();
}

function hostId(requestId: string): string {
  return Buffer.from(`${requestId}${requestId}`).toString('base64');
}

function s3RequestHeaders(requestId: string): Record<string, string> {
  const id = s3RequestId(requestId);
  return { 'x-amz-request-id': id, 'x-amz-id-2': hostId(id) };
}

export const restXmlCodec: Codec = {
  streams(req: RawRequest, detected: Detected) {
    if (detected.service !== 's3' || req.method !== 'PUT' || req.headers['x-amz-copy-source'] !== undefined)
      return false;
    const { key } = splitPath(pathStyle(req));
    if (key === undefined) return false;
    // Object sub-resources (?tagging, ?acl, ...) carry small XML bodies; only the object (or a part) streams.
    for (const k of req.query.keys())
      if (k !== 'partNumber' && k !== 'uploadId' && k !== 'x-id' && !k.startsWith('X-Amz-') && !k.startsWith('x-amz-'))
        return false;
    return true;
  },

  parse(req, model) {
    const found = findRoute(model, req);
    if (!found) {
      throw new AwsError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, {
        extra: { Method: req.method, ResourceType: req.path === '/' ? 'SERVICE' : 'OBJECT' },
      });
    }
    const { route } = found;
    const op = model.operations[route.operation];
    const input: Record<string, unknown> = {};
    const shape = op.input ? model.shapes[op.input.shape] : undefined;
    if (!shape) return { operation: route.operation, input };
    const labels: Record<string, string | undefined> = { Bucket: found.bucket, Key: found.key };
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const loc = ref.locationName ?? name;
      switch (ref.location) {
        case 'uri':
          if (labels[loc] !== undefined) input[name] = labels[loc];
          break;
        case 'querystring': {
          const v = req.query.get(loc);
          if (v !== null) input[name] = scalarFrom(model, ref, v);
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
          let any = false;
          for (const [k, v] of Object.entries(req.headers)) {
            if (k.startsWith(prefix)) {
              m[k.slice(prefix.length)] = v;
              any = true;
            }
          }
          if (any) input[name] = m;
          break;
        }
      }
    }
    if (shape.payload) {
      const ref = shape.members![shape.payload];
      const target = model.shapes[ref.shape];
      if (target?.type === 'blob') {
        input[shape.payload] = req.stream ?? req.body;
        // Transfer framing the service needs to decode and verify the body (not members of the model).
        input.$transfer = {
          contentSha256: req.headers['x-amz-content-sha256'],
          decodedLength:
            req.headers['x-amz-decoded-content-length'] === undefined
              ? undefined
              : Number(req.headers['x-amz-decoded-content-length']),
          trailer: req.headers['x-amz-trailer'],
          contentLength:
            req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']),
          transferEncoding: req.headers['transfer-encoding'],
        };
      } else if (target?.type === 'string') {
        if (req.body.length) input[shape.payload] = req.body.toString('utf8');
      } else if (req.body.length) {
        verifyBodyIntegrity(req);
        input[shape.payload] = fromXmlDocument(model, ref.shape, req.body, ref.locationName ?? shape.payload);
      }
    }
    return { operation: route.operation, input };
  },

  serialize(model, operation, output, requestId) {
    const op = model.operations[operation];
    const out = (output ?? {}) as Record<string, unknown>;
    let status = typeof out.$status === 'number' ? out.$status : (op?.http.responseCode ?? 200);
    const headers: Record<string, string> = s3RequestHeaders(requestId);
    const shapeName = op?.output?.shape;
    const shape = shapeName ? model.shapes[shapeName] : undefined;
    if (!shape) return { status, headers, body: '' };
    const bodyMembers: Record<string, unknown> = {};
    let hasBody = false;
    for (const [name, v] of Object.entries(out)) {
      if (v === undefined || v === null) continue;
      const ref = shape.members?.[name];
      if (!ref) continue;
      if (ref.location === 'statusCode') status = Number(v);
      else if (ref.location === 'header') headers[(ref.locationName ?? name).toLowerCase()] = headerText(v);
      else if (ref.location === 'headers') {
        for (const [k, hv] of Object.entries(v as Record<string, string>))
          headers[`${(ref.locationName ?? '').toLowerCase()}${k}`] = String(hv);
      } else if (shape.payload !== name) {
        bodyMembers[name] = v;
        hasBody = true;
      }
    }
    if (shape.payload) {
      const ref = shape.members![shape.payload];
      const target = model.shapes[ref.shape];
      const v = out[shape.payload];
      if (v === undefined || v === null) return { status, headers, body: '' };
      if (v instanceof Readable || Buffer.isBuffer(v)) return { status, headers, body: v };
      if (target?.type === 'string' || target?.type === 'blob') return { status, headers, body: String(v) };
      headers['content-type'] = 'application/xml';
      return { status, headers, body: XML_DECL + toXml(model, ref.shape, v, ref.locationName ?? ref.shape, S3_NS) };
    }
    if (operation === 'GetBucketLocation') {
      headers['content-type'] = 'application/xml';
      const loc = out.LocationConstraint;
      return {
        status,
        headers,
        body: `${XML_DECL}<LocationConstraint xmlns="${S3_NS}">${loc ? escapeXml(String(loc)) : ''}</LocationConstraint>`,
      };
    }
    if (!hasBody && status === 204) return { status, headers, body: '' };
    if (!hasBody && !ROOTS[shapeName!]) return { status, headers, body: '' };
    headers['content-type'] = 'application/xml';
    const root = ROOTS[shapeName!] ?? shapeName!.replace(/Output$/, 'Result');
    return { status, headers, body: XML_DECL + toXml(model, shapeName!, bodyMembers, root, S3_NS) };
  },

  serializeError(_model, err, requestId) {
    const headers: Record<string, string> = { ...s3RequestHeaders(requestId), ...err.headers };
    if (err.status === 304) return { status: err.status, headers, body: '' };
    headers['content-type'] = 'application/xml';
    let extra = '';
    for (const [k, v] of Object.entries(err.extra ?? {}))
      if (v !== undefined && v !== null) extra += `<${k}>${escapeXml(String(v))}</${k}>`;
    const body = `${XML_DECL}<Error><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message>${extra}<RequestId>${s3RequestId(requestId)}</RequestId><HostId>${hostId(s3RequestId(requestId))}</HostId></Error>`;
    return { status: err.status, headers, body };
  },
};
