import type { AttributeValue, Item } from '../types.ts';
import type { ExpressionAttributes } from './attributes.ts';
import { bindPath, checkPathOverlap, type DocPath, getPath, own, Problems } from './common.ts';
import { type RawPath, syntaxTree } from './syntax.ts';

/** A resolved projection: the document paths to keep. */
export interface Projection {
  paths: DocPath[];
}

const ORDER = ['limits', 'reserved', 'nameval', 'overlap', 'conflict'];

/** Check and resolve projection paths; throws DynamoDB's first error. */
export function bindProjection(raw: RawPath[], attrs: ExpressionAttributes): Projection {
  const problems = new Problems();
  const paths: DocPath[] = [];
  for (const r of raw) checkPathOverlap(paths, bindPath(r, attrs, problems), problems);
  problems.throwFirst('ProjectionExpression', ORDER);
  return { paths };
}

/** Parse a ProjectionExpression (syntax cached by text). */
export function parseProjection(expr: string, attrs: ExpressionAttributes): Projection {
  return bindProjection(syntaxTree(expr, 'Projection', 'ProjectionExpression'), attrs);
}

/** The projection of the legacy AttributesToGet parameter (top-level names, taken literally). */
export function projectionFromAttributesToGet(names: string[]): Projection {
  return { paths: names.map((n) => [n]) };
}

/**
 * Keep only the projected paths of an item, as DynamoDB returns them: `a.b` gives
 * `{a: {M: {b: ...}}}`, `l[1]` gives `{l: {L: [element]}}` (several elements of one list keep their
 * order). Absent paths are skipped. The result shares values with the input.
 */
export function applyProjection(p: Projection, item: Item): Item {
  const out: Item = {};
  let lists: AttributeValue[] | undefined;
  for (const path of p.paths) {
    if (path.length === 1) {
      const v = own(item, path[0] as string);
      if (v !== undefined) out[path[0] as string] = v;
      continue;
    }
    const v = getPath(item, path);
    if (v === undefined) continue;
    let container: AttributeValue = { M: out };
    for (let i = 0; i < path.length - 1; i++) {
      const e = path[i];
      let next = typeof e === 'number' ? (container.L as AttributeValue[])[e] : own(container.M as Item, e);
      if (next === undefined) {
        if (typeof path[i + 1] === 'number') {
          next = { L: [] };
          (lists ??= []).push(next);
        } else next = { M: {} };
        if (typeof e === 'number') (container.L as AttributeValue[])[e] = next;
        else (container.M as Item)[e] = next;
      }
      container = next;
    }
    const last = path[path.length - 1];
    if (typeof last === 'number') (container.L as AttributeValue[])[last] = v;
    else (container.M as Item)[last] = v;
  }
  // Projected list elements keep their relative order but not their positions.
  if (lists) for (const l of lists) l.L = (l.L as AttributeValue[]).filter(() => true);
  return out;
}
