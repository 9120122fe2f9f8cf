/**
 * Generate compact shape tables from botocore's service models (../shared/aws-models, Apache-2.0).
 * Keeps what codecs and validation need (types, members, locations, constraints, errors); drops the
 * documentation text. Output: src/model/generated/<service>.json, committed.
 *   npm run gen:models [-- path/to/aws-models]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const src = process.argv[2] ?? join(import.meta.dirname, '../../shared/aws-models');
const out = join(import.meta.dirname, '../src/model/generated');

const SHAPE_KEYS = [
  'type',
  'required',
  'min',
  'max',
  'enum',
  'pattern',
  'flattened',
  'locationName',
  'payload',
  'timestampFormat',
  'union',
  'streaming',
  'exception',
  'error',
  'xmlNamespace',
];
const MEMBER_KEYS = [
  'shape',
  'location',
  'locationName',
  'flattened',
  'xmlNamespace',
  'xmlAttribute',
  'idempotencyToken',
  'streaming',
  'jsonvalue',
  'hostLabel',
  'timestampFormat',
];

function pick(obj: Record<string, unknown>, keys: string[]) {
  const r: Record<string, unknown> = {};
  for (const k of keys) if (obj[k] !== undefined) r[k] = obj[k];
  return r;
}

for (const svc of readdirSync(src)) {
  const model = JSON.parse(readFileSync(join(src, svc, 'service-2.json'), 'utf8'));
  const shapes: Record<string, unknown> = {};
  for (const [name, shape] of Object.entries<any>(model.shapes)) {
    const s = pick(shape, SHAPE_KEYS);
    if (shape.members)
      s.members = Object.fromEntries(Object.entries<any>(shape.members).map(([m, v]) => [m, pick(v, MEMBER_KEYS)]));
    if (shape.member) s.member = pick(shape.member, MEMBER_KEYS);
    if (shape.key) s.key = pick(shape.key, MEMBER_KEYS);
    if (shape.value) s.value = pick(shape.value, MEMBER_KEYS);
    shapes[name] = s;
  }
  const operations: Record<string, unknown> = {};
  for (const [name, op] of Object.entries<any>(model.operations)) {
    operations[name] = {
      http: op.http,
      ...(op.input ? { input: pick(op.input, ['shape', 'locationName', 'xmlNamespace']) } : {}),
      ...(op.output ? { output: pick(op.output, ['shape', 'resultWrapper']) } : {}),
      errors: (op.errors ?? []).map((e: any) => e.shape),
    };
  }
  const m = model.metadata;
  const metadata = pick(m, [
    'apiVersion',
    'endpointPrefix',
    'jsonVersion',
    'protocol',
    'protocols',
    'targetPrefix',
    'signingName',
    'serviceId',
    'xmlNamespace',
  ]);
  writeFileSync(join(out, `${svc}.json`), JSON.stringify({ metadata, operations, shapes }));
  console.log(`${svc}: ${Object.keys(operations).length} operations, ${Object.keys(shapes).length} shapes`);
}
