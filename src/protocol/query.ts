import { AwsError } from '../core/errors.ts';
import type { MemberRef, ServiceModel, Shape } from '../model/model.ts';
import { queryView } from './quirks/index.ts';
import type { Codec } from './types.ts';
import { escapeXml, tag } from './xml.ts';

/**
 * The AWS query protocol (STS, SNS, CloudFormation, CloudWatch and SQS as the CLI v1 sends them):
 * form-encoded input flattened by the model (`Attributes.entry.1.key`, `Names.member.1`), XML out.
 */
export const queryCodec: Codec = {
  parse(req, jsonModel) {
    const model = queryView(jsonModel);
    const params = new URLSearchParams(req.query);
    const ct = req.headers['content-type'] ?? '';
    if (req.body.length && ct.startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) params.append(k, v);
    }
    const operation = params.get('Action') ?? '';
    const op = model.operations[operation];
    if (!op) return { operation, input: {} };
    const flat = new Map<string, string>();
    for (const [k, v] of params) if (k !== 'Action' && k !== 'Version') flat.set(k, v);
    const input = op.input
      ? ((readStructure(model, model.shapes[op.input.shape], flat, '') as Record<string, unknown>) ?? {})
      : {};
    return { operation, input };
  },
  serialize(jsonModel, operation, output, requestId) {
    const model = queryView(jsonModel);
    const op = model.operations[operation];
    const ns = model.metadata.xmlNamespace ?? '';
    let inner = '';
    if (op?.output && output)
      inner = writeMembers(model, model.shapes[op.output.shape], output as Record<string, unknown>);
    const result = op?.output?.resultWrapper ?? `${operation}Result`;
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${ns}">` +
      (op?.output ? tag(result, inner) : '') +
      tag('ResponseMetadata', tag('RequestId', requestId)) +
      `</${operation}Response>`;
    return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
  },
  serializeError(jsonModel, err, requestId) {
    const model = jsonModel && queryView(jsonModel);
    const ns = model?.metadata.xmlNamespace ?? '';
    // awsQueryCompatible services (SQS) name the query code in x-amzn-query-error: `<code>;Sender`.
    const { 'x-amzn-query-error': queryError, ...headers } = err.headers ?? {};
    const code = queryError ? queryError.split(';')[0] : err.code;
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${ns}">` +
      tag(
        'Error',
        tag('Type', err.sender ? 'Sender' : 'Receiver') +
          tag('Code', escapeXml(code)) +
          tag('Message', escapeXml(err.message)),
      ) +
      tag('RequestId', requestId) +
      '</ErrorResponse>';
    return {
      status: err.status,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, ...headers },
      body,
    };
  },
};

function readValue(model: ServiceModel, ref: MemberRef, flat: Map<string, string>, prefix: string): unknown {
  const shape = model.shapes[ref.shape];
  switch (shape.type) {
    case 'structure':
      return readStructure(model, shape, flat, prefix);
    case 'list':
      return readList(model, shape, ref, flat, prefix);
    case 'map':
      return readMap(model, shape, ref, flat, prefix);
    default: {
      const raw = flat.get(prefix);
      if (raw === undefined) return undefined;
      return scalar(shape, raw, prefix);
    }
  }
}

function hasPrefix(flat: Map<string, string>, prefix: string): boolean {
  if (flat.has(prefix)) return true;
  const p = `${prefix}.`;
  for (const k of flat.keys()) if (k.startsWith(p)) return true;
  return false;
}

function readStructure(
  model: ServiceModel,
  shape: Shape,
  flat: Map<string, string>,
  prefix: string,
): Record<string, unknown> | undefined {
  if (prefix && !hasPrefix(flat, prefix)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    const key = prefix ? `${prefix}.${ref.locationName ?? name}` : (ref.locationName ?? name);
    const v = readValue(model, ref, flat, key);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function readList(
  model: ServiceModel,
  shape: Shape,
  ref: MemberRef,
  flat: Map<string, string>,
  prefix: string,
): unknown[] | undefined {
  const flattened = shape.flattened || ref.flattened;
  const base = flattened ? prefix : `${prefix}.${shape.member?.locationName ?? 'member'}`;
  // An empty list is sent as `Prefix=` (no members).
  if (!hasPrefix(flat, base)) return flat.get(prefix) === '' ? [] : undefined;
  const items: unknown[] = [];
  for (let i = 1; ; i++) {
    const key = `${base}.${i}`;
    if (!hasPrefix(flat, key)) break;
    items.push(readValue(model, shape.member!, flat, key));
  }
  return items;
}

function readMap(
  model: ServiceModel,
  shape: Shape,
  ref: MemberRef,
  flat: Map<string, string>,
  prefix: string,
): Record<string, unknown> | undefined {
  const flattened = shape.flattened || ref.flattened;
  const base = flattened ? prefix : `${prefix}.entry`;
  if (!hasPrefix(flat, base)) return undefined;
  const keyName = shape.key?.locationName ?? 'key';
  const valueName = shape.value?.locationName ?? 'value';
  const out: Record<string, unknown> = {};
  for (let i = 1; ; i++) {
    const key = `${base}.${i}`;
    if (!hasPrefix(flat, key)) break;
    const k = flat.get(`${key}.${keyName}`);
    if (k === undefined) continue;
    out[k] = readValue(model, shape.value!, flat, `${key}.${valueName}`);
  }
  return out;
}

function scalar(shape: Shape, raw: string, name: string): unknown {
  switch (shape.type) {
    case 'integer':
    case 'long':
    case 'double':
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n))
        throw new AwsError('MalformedInput', `Value '${raw}' for parameter ${name} is invalid.`, 400);
      return n;
    }
    case 'boolean':
      return raw === 'true';
    case 'timestamp': {
      const d = /^\d+(\.\d+)?$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
      if (Number.isNaN(d.getTime()))
        throw new AwsError('MalformedInput', `Value '${raw}' for parameter ${name} is invalid.`, 400);
      return d;
    }
    case 'blob':
      return Buffer.from(raw, 'base64');
    default:
      return raw;
  }
}

export function writeMembers(model: ServiceModel, shape: Shape, value: Record<string, unknown>): string {
  let s = '';
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    const v = value[name];
    if (v === undefined || v === null) continue;
    s += writeValue(model, ref, v, ref.locationName ?? name);
  }
  return s;
}

function writeValue(model: ServiceModel, ref: MemberRef, v: unknown, name: string): string {
  const shape = model.shapes[ref.shape];
  switch (shape.type) {
    case 'structure':
      return tag(name, writeMembers(model, shape, v as Record<string, unknown>));
    case 'list': {
      const items = v as unknown[];
      const memberName = shape.member?.locationName ?? 'member';
      if (shape.flattened || ref.flattened)
        return items.map((it) => writeValue(model, shape.member!, it, name)).join('');
      return tag(name, items.map((it) => writeValue(model, shape.member!, it, memberName)).join(''));
    }
    case 'map': {
      const keyName = shape.key?.locationName ?? 'key';
      const valueName = shape.value?.locationName ?? 'value';
      const entries = Object.entries(v as Record<string, unknown>)
        .map(([k, mv]) =>
          tag(
            shape.flattened || ref.flattened ? name : 'entry',
            tag(keyName, escapeXml(k)) + writeValue(model, shape.value!, mv, valueName),
          ),
        )
        .join('');
      return shape.flattened || ref.flattened ? entries : tag(name, entries);
    }
    case 'timestamp':
      return tag(name, (v instanceof Date ? v : new Date(typeof v === 'number' ? v * 1000 : String(v))).toISOString());
    case 'blob':
      return tag(name, Buffer.isBuffer(v) ? v.toString('base64') : escapeXml(String(v)));
    default:
      return tag(name, escapeXml(String(v)));
  }
}
