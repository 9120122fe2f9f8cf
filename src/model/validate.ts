import { AwsError, serialization } from '../core/errors.ts';
import type { MemberRef, ServiceModel, Shape } from './model.ts';

/**
 * AWS-style constraint validation driven by the service model: required members, lengths, ranges,
 * enums and patterns, reported as AWS reports them ("1 validation error detected: Value 'x' at
 * 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3").
 * Type mismatches are SerializationExceptions, as the JSON services give them.
 *
 * This runs on every request, so it walks only the members present and builds path strings only
 * when it has an error to report.
 */
export function validateInput(model: ServiceModel, shapeName: string, input: unknown): void {
  const v = new Validator(model);
  v.shape(model.shapes[shapeName], input);
  if (v.errors.length) {
    const n = v.errors.length;
    throw new AwsError(
      'ValidationException',
      `${n} validation error${n > 1 ? 's' : ''} detected: ${v.errors.slice(0, 10).join('; ')}`,
      400,
      {
        type: 'com.amazon.coral.validate#ValidationException',
      },
    );
  }
}

const lowerCache = new Map<string, string>();
function lowerFirst(s: string): string {
  let r = lowerCache.get(s);
  if (r === undefined) {
    r = s.charAt(0).toLowerCase() + s.slice(1);
    lowerCache.set(s, r);
  }
  return r;
}

const patternCache = new Map<string, RegExp | null>();
function patternOf(p: string): RegExp | null {
  let re = patternCache.get(p);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${p})$`, 'u');
    } catch {
      re = null;
    }
    patternCache.set(p, re);
  }
  return re;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return Array.isArray(v) ? `[${v.map(describe).join(', ')}]` : '{...}';
  return `'${String(v)}'`;
}

function typeName(v: unknown): string {
  if (typeof v === 'number') return 'NUMBER_VALUE';
  if (typeof v === 'string') return 'STRING_VALUE';
  if (typeof v === 'boolean') return v ? 'TRUE_VALUE' : 'FALSE_VALUE';
  if (Array.isArray(v)) return 'START_ARRAY';
  return 'START_OBJECT';
}

class Validator {
  errors: string[] = [];
  private path: string[] = [];
  constructor(private model: ServiceModel) {}

  private at(): string {
    return this.path.join('.');
  }

  private member(ref: MemberRef, v: unknown, segment: string): void {
    this.path.push(segment);
    this.shape(this.model.shapes[ref.shape], v);
    this.path.pop();
  }

  shape(shape: Shape | undefined, v: unknown): void {
    if (!shape || v === undefined || v === null) return;
    switch (shape.type) {
      case 'structure': {
        if (typeof v !== 'object' || Array.isArray(v))
          throw serialization(`Start of ${Array.isArray(v) ? 'list' : 'value'} found where not expected`);
        const obj = v as Record<string, unknown>;
        if (shape.required) {
          for (const r of shape.required) {
            if (obj[r] === undefined || obj[r] === null) {
              this.path.push(lowerFirst(r));
              this.errors.push(`Value null at '${this.at()}' failed to satisfy constraint: Member must not be null`);
              this.path.pop();
            }
          }
        }
        const members = shape.members;
        if (!members) return;
        for (const name in obj) {
          const ref = members[name];
          const mv = obj[name];
          if (ref === undefined || mv === undefined || mv === null) continue;
          this.member(ref, mv, lowerFirst(name));
        }
        return;
      }
      case 'list': {
        if (!Array.isArray(v)) throw serialization('Unexpected value type in payload');
        this.length(shape, v.length, v);
        for (let i = 0; i < v.length; i++) this.member(shape.member!, v[i], `${i + 1}.member`);
        return;
      }
      case 'map': {
        if (typeof v !== 'object' || Array.isArray(v)) throw serialization('Unexpected value type in payload');
        const obj = v as Record<string, unknown>;
        let n = 0;
        for (const k in obj) {
          n++;
          this.member(shape.key!, k, `${k}.key`);
          this.member(shape.value!, obj[k], `${k}.value`);
        }
        this.length(shape, n, v);
        return;
      }
      case 'string': {
        if (typeof v !== 'string') throw serialization(`${typeName(v)} cannot be converted to String`);
        if (shape.enum) {
          if (!shape.enum.includes(v))
            this.errors.push(
              `Value '${v}' at '${this.at()}' failed to satisfy constraint: Member must satisfy enum value set: [${shape.enum.join(', ')}]`,
            );
          return;
        }
        if (shape.min !== undefined || shape.max !== undefined) this.length(shape, v.length, v);
        if (shape.pattern && v.length >= (shape.min ?? 0)) {
          const re = patternOf(shape.pattern);
          if (re && !re.test(v))
            this.errors.push(
              `Value '${v}' at '${this.at()}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${shape.pattern}`,
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
          this.errors.push(
            `Value '${v}' at '${this.at()}' failed to satisfy constraint: Member must have value greater than or equal to ${shape.min}`,
          );
        if (shape.max !== undefined && v > shape.max)
          this.errors.push(
            `Value '${v}' at '${this.at()}' failed to satisfy constraint: Member must have value less than or equal to ${shape.max}`,
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

  private length(shape: Shape, len: number, v: unknown): void {
    if (shape.min !== undefined && len < shape.min)
      this.errors.push(
        `Value ${describe(v)} at '${this.at()}' failed to satisfy constraint: Member must have length greater than or equal to ${shape.min}`,
      );
    if (shape.max !== undefined && len > shape.max)
      this.errors.push(
        `Value ${describe(v)} at '${this.at()}' failed to satisfy constraint: Member must have length less than or equal to ${shape.max}`,
      );
  }
}
