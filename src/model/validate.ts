import { AwsError, serialization } from '../core/errors.ts';
import type { MemberRef, ServiceModel, Shape } from './model.ts';

/**
 * AWS-style constraint validation driven by the service model: required members, lengths, ranges,
 * enums and patterns, reported as AWS reports them ("1 validation error detected: Value 'x' at
 * 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3").
 * Type mismatches are SerializationExceptions, as the JSON services give them.
 */
export function validateInput(model: ServiceModel, shapeName: string, input: unknown): void {
  const errors: string[] = [];
  checkShape(model, model.shapes[shapeName], input, '', errors, true);
  if (errors.length) {
    const n = errors.length;
    const shown = errors.slice(0, 10);
    throw new AwsError(
      'ValidationException',
      `${n} validation error${n > 1 ? 's' : ''} detected: ${shown.join('; ')}`,
      400,
      { type: 'com.amazon.coral.validate#ValidationException' },
    );
  }
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const patternCache = new Map<string, RegExp | null>();

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return Array.isArray(v) ? `[${v.map(describe).join(', ')}]` : '{...}';
  return `'${String(v)}'`;
}

function checkShape(
  model: ServiceModel,
  shape: Shape | undefined,
  v: unknown,
  path: string,
  errors: string[],
  top = false,
): void {
  if (!shape || v === undefined || v === null) return;
  switch (shape.type) {
    case 'structure': {
      if (typeof v !== 'object' || Array.isArray(v))
        throw serialization(`Start of ${Array.isArray(v) ? 'list' : 'value'} found where not expected`);
      const obj = v as Record<string, unknown>;
      for (const r of shape.required ?? []) {
        if (obj[r] === undefined || obj[r] === null)
          errors.push(
            `Value null at '${join(path, lowerFirst(r))}' failed to satisfy constraint: Member must not be null`,
          );
      }
      for (const [name, ref] of Object.entries(shape.members ?? {})) {
        const mv = obj[name];
        if (mv === undefined || mv === null) continue;
        checkMember(model, ref, mv, join(path, lowerFirst(name)), errors);
      }
      void top;
      return;
    }
    case 'list': {
      if (!Array.isArray(v)) throw serialization(`Unexpected value type in payload`);
      lengthCheck(shape, v.length, v, path, errors);
      for (let i = 0; i < v.length; i++) checkMember(model, shape.member!, v[i], `${path}.${i + 1}.member`, errors);
      return;
    }
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) throw serialization(`Unexpected value type in payload`);
      const entries = Object.entries(v as Record<string, unknown>);
      lengthCheck(shape, entries.length, v, path, errors);
      for (const [k, mv] of entries) {
        checkMember(model, shape.key!, k, `${path}.${k}.key`, errors);
        checkMember(model, shape.value!, mv, `${path}.${k}.value`, errors);
      }
      return;
    }
    case 'string': {
      if (typeof v !== 'string') throw serialization(`${typeName(v)} cannot be converted to String`);
      if (shape.enum && !shape.enum.includes(v)) {
        errors.push(
          `Value '${v}' at '${path}' failed to satisfy constraint: Member must satisfy enum value set: [${shape.enum.join(', ')}]`,
        );
        return;
      }
      lengthCheck(shape, v.length, v, path, errors);
      if (shape.pattern && v.length >= (shape.min ?? 0)) {
        let re = patternCache.get(shape.pattern);
        if (re === undefined) {
          try {
            re = new RegExp(`^(?:${shape.pattern})$`, 'u');
          } catch {
            re = null;
          }
          patternCache.set(shape.pattern, re);
        }
        if (re && !re.test(v))
          errors.push(
            `Value '${v}' at '${path}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${shape.pattern}`,
          );
      }
      return;
    }
    case 'integer':
    case 'long':
    case 'double':
    case 'float': {
      if (typeof v !== 'number')
        throw serialization(
          `${typeName(v)} cannot be converted to ${shape.type === 'integer' ? 'Integer' : shape.type === 'long' ? 'Long' : 'Double'}`,
        );
      if (shape.min !== undefined && v < shape.min)
        errors.push(
          `Value '${v}' at '${path}' failed to satisfy constraint: Member must have value greater than or equal to ${shape.min}`,
        );
      if (shape.max !== undefined && v > shape.max)
        errors.push(
          `Value '${v}' at '${path}' failed to satisfy constraint: Member must have value less than or equal to ${shape.max}`,
        );
      return;
    }
    case 'boolean':
      if (typeof v !== 'boolean') throw serialization(`${typeName(v)} cannot be converted to Boolean`);
      return;
    default:
      return;
  }
}

function checkMember(model: ServiceModel, ref: MemberRef, v: unknown, path: string, errors: string[]) {
  checkShape(model, model.shapes[ref.shape], v, path, errors);
}

function lengthCheck(shape: Shape, len: number, v: unknown, path: string, errors: string[]) {
  if (shape.min !== undefined && len < shape.min)
    errors.push(
      `Value ${describe(v)} at '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${shape.min}`,
    );
  if (shape.max !== undefined && len > shape.max)
    errors.push(
      `Value ${describe(v)} at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${shape.max}`,
    );
}

function typeName(v: unknown): string {
  if (typeof v === 'number') return 'NUMBER_VALUE';
  if (typeof v === 'string') return 'STRING_VALUE';
  if (typeof v === 'boolean') return v ? 'TRUE_VALUE' : 'FALSE_VALUE';
  if (Array.isArray(v)) return 'START_ARRAY';
  return 'START_OBJECT';
}

const join = (a: string, b: string) => (a ? `${a}.${b}` : b);
