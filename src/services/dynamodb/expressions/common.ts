import type { AttributeValue, Item } from '../types.ts';
import type { ExpressionAttributes } from './attributes.ts';
import { isReserved } from './reserved-words.ts';
import { type ExpressionKind, invalid, type RawPath } from './syntax.ts';

/** A resolved document path: attribute names and list indexes. */
export type PathEl = string | number;
export type DocPath = PathEl[];

/** The largest list index an expression may name. */
const MAX_LIST_INDEX = 2147483647;

const hasOwn = Object.prototype.hasOwnProperty;

/** Own property lookup (item maps are plain objects: never reach the prototype). */
export function own<T>(o: Record<string, T>, k: string): T | undefined {
  return hasOwn.call(o, k) ? o[k] : undefined;
}

/** The value at a document path, or undefined. */
export function getPath(item: Item | undefined, p: DocPath): AttributeValue | undefined {
  if (!item) return undefined;
  let v = own(item, p[0] as string);
  for (let i = 1; i < p.length && v !== undefined; i++) {
    const e = p[i];
    if (typeof e === 'number') v = v.L !== undefined ? v.L[e] : undefined;
    else v = v.M !== undefined ? own(v.M, e) : undefined;
  }
  return v;
}

/** `[a, b, [0]]` as DynamoDB prints paths in errors. */
export function pathStr(p: DocPath): string {
  return `[${p.map((e) => (typeof e === 'number' ? `[${e}]` : e)).join(', ')}]`;
}

/**
 * Collects the first error of each category while a tree is checked, then reports the one
 * DynamoDB reports first (categories are ranked per expression kind).
 */
export class Problems {
  private first: Map<string, string> | undefined;
  add(category: string, detail: string): void {
    this.first ??= new Map();
    if (!this.first.has(category)) this.first.set(category, detail);
  }
  throwFirst(kind: ExpressionKind, order: readonly string[]): void {
    if (!this.first) return;
    for (const c of order) {
      const d = this.first.get(c);
      if (d !== undefined) throw invalid(kind, d);
    }
    throw invalid(kind, this.first.values().next().value as string);
  }
}

/** Resolve `#names` and check reserved words of a path as written. */
export function bindPath(
  raw: RawPath,
  attrs: ExpressionAttributes,
  problems: Problems,
  nameCategory = 'nameval',
): DocPath {
  const out: DocPath = new Array(raw.parts.length);
  for (let i = 0; i < raw.parts.length; i++) {
    const part = raw.parts[i];
    if (typeof part === 'object') {
      const n = Number(part.i);
      if (n > MAX_LIST_INDEX)
        problems.add('limits', `List index is not within the allowable range; index: [${part.i}]`);
      out[i] = n;
    } else if (part.charCodeAt(0) === 35 /* # */) {
      const n = attrs.name(part);
      if (n === undefined) {
        problems.add(
          nameCategory,
          `An expression attribute name used in the document path is not defined; attribute name: ${part}`,
        );
        out[i] = part;
      } else out[i] = n;
    } else {
      if (isReserved(part)) problems.add('reserved', `Attribute name is a reserved keyword; reserved keyword: ${part}`);
      out[i] = part;
    }
  }
  return out;
}

/** Record overlap/conflict of `p` with earlier paths (update and projection expressions). */
export function checkPathOverlap(seen: DocPath[], p: DocPath, problems: Problems): void {
  for (const q of seen) {
    let i = 0;
    let differs = false;
    for (; i < q.length && i < p.length; i++) {
      if (typeof q[i] !== typeof p[i]) {
        problems.add(
          'conflict',
          `Two document paths conflict with each other; must remove or rewrite one of these paths; path one: ${pathStr(q)}, path two: ${pathStr(p)}`,
        );
        differs = true;
        break;
      }
      if (q[i] !== p[i]) {
        differs = true;
        break;
      }
    }
    if (!differs)
      problems.add(
        'overlap',
        `Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${pathStr(q)}, path two: ${pathStr(p)}`,
      );
  }
  seen.push(p);
}

/** `{S:abc}` as DynamoDB prints a value in some errors. */
export function valueStr(v: AttributeValue): string {
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined) continue;
    return `{${k}:${Array.isArray(x) ? `[${x.join(', ')}]` : typeof x === 'object' ? JSON.stringify(x) : String(x)}}`;
  }
  return '{}';
}
