import { validation } from '../../../core/errors.ts';
import type { AttributeValue, KeyDef } from '../types.ts';
import type { ExpressionAttributes } from './attributes.ts';
import { bindCondition, type Condition, type Operand } from './condition.ts';
import { syntaxTree } from './syntax.ts';

export type KeyOp = 'EQ' | 'LT' | 'LE' | 'GT' | 'GE' | 'BETWEEN' | 'BEGINS_WITH';

/** A Query's key condition: the hash key value and an optional range key predicate. */
export interface KeyCondition {
  hash: AttributeValue;
  range?: { op: KeyOp; values: AttributeValue[] };
}

/** One condition on one key attribute, as legacy KeyConditions write it. */
export interface KeyPredicate {
  op: string;
  values: AttributeValue[];
}

const CMP_TO_OP: Record<string, KeyOp> = { '=': 'EQ', '<': 'LT', '<=': 'LE', '>': 'GT', '>=': 'GE' };
const FLIP: Record<string, string> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const FUNCTION_NAMES: Record<string, string> = {
  exists: 'attribute_exists',
  not_exists: 'attribute_not_exists',
  type: 'attribute_type',
  contains: 'contains',
};
const NOT_INDEXABLE = new Set(['NULL', 'NOT_NULL', 'NE', 'CONTAINS', 'NOT_CONTAINS', 'IN']);

function operandsOf(c: Condition): Operand[] {
  switch (c.k) {
    case 'cmp':
    case 'begins_with':
      return [c.a, c.b];
    case 'between':
      return [c.a, c.lo, c.hi];
    default:
      return [];
  }
}

/** Turn a checked condition into per-attribute predicates, refusing what a key condition cannot say. */
function collect(c: Condition, out: Map<string, KeyPredicate>): void {
  if (c.k === 'and') {
    for (const x of c.list) collect(x, out);
    return;
  }
  if (c.k === 'or' || c.k === 'not' || c.k === 'in' || (c.k === 'cmp' && c.op === '<>'))
    throw validation(`Invalid operator used in KeyConditionExpression: ${c.k === 'cmp' ? '<>' : c.k.toUpperCase()}`);
  if (FUNCTION_NAMES[c.k]) throw validation(`Invalid operator used in KeyConditionExpression: ${FUNCTION_NAMES[c.k]}`);
  const operands = operandsOf(c);
  if (operands.some((o) => o.k === 'size'))
    throw validation('KeyConditionExpressions cannot contain nested operations');
  if ((c.k === 'between' || c.k === 'begins_with') && operands[0].k !== 'path') {
    const name = c.k === 'between' ? 'BETWEEN' : 'begins_with';
    throw validation(
      `Invalid condition in KeyConditionExpression: ${name} operator must have the key attribute as its first operand`,
    );
  }
  let attr: string | undefined;
  let at = 0;
  for (let i = 0; i < operands.length; i++) {
    const o = operands[i];
    if (o.k !== 'path') continue;
    if (attr !== undefined)
      throw validation('Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition');
    if (o.p.length > 1) throw validation('KeyConditionExpressions cannot have conditions on nested attributes');
    attr = o.p[0] as string;
    at = i;
  }
  if (attr === undefined) throw validation('Invalid condition in KeyConditionExpression: No key attribute specified');
  if (out.has(attr)) throw validation('KeyConditionExpressions must only contain one condition per key');
  const values = operands.filter((_, i) => i !== at).map((o) => (o as { v: AttributeValue }).v);
  let op: string;
  if (c.k === 'cmp') op = CMP_TO_OP[at === 0 ? c.op : FLIP[c.op]];
  else op = c.k === 'between' ? 'BETWEEN' : 'BEGINS_WITH';
  out.set(attr, { op, values });
}

/** Check per-attribute predicates against the key schema of the table or index queried. */
export function keyConditionFromPredicates(conds: Map<string, KeyPredicate>, key: KeyDef): KeyCondition {
  if (conds.size !== 1 && conds.size !== 2) throw validation('Conditions can be of length 1 or 2 only');
  if (key.range === undefined && conds.size > 1) throw validation('Query key condition not supported');
  let range: KeyCondition['range'];
  let hash: AttributeValue | undefined;
  const attrs: [string, string, boolean][] = [[key.hash, key.hashType, true]];
  if (key.range !== undefined) attrs.push([key.range, key.rangeType as string, false]);
  for (const [attr, type, isHash] of attrs) {
    const c = conds.get(attr);
    if (!c) {
      if (isHash || conds.size > 1) throw validation(`Query condition missed key schema element: ${attr}`);
      continue;
    }
    if (NOT_INDEXABLE.has(c.op)) throw validation('Attempted conditional constraint is not an indexable operation');
    if (c.values.some((v) => (v as Record<string, unknown>)[type] === undefined))
      throw validation(
        'One or more parameter values were invalid: Condition parameter type does not match schema type',
      );
    if (isHash) {
      if (c.op !== 'EQ') throw validation('Query key condition not supported');
      hash = c.values[0];
    } else range = { op: c.op as KeyOp, values: c.values };
  }
  return range ? { hash: hash as AttributeValue, range } : { hash: hash as AttributeValue };
}

/** Parse a KeyConditionExpression for the key schema (table or index) being queried. */
export function parseKeyCondition(expr: string, attrs: ExpressionAttributes, key: KeyDef): KeyCondition {
  const kind = 'KeyConditionExpression';
  const cond = bindCondition(syntaxTree(expr, 'Condition', kind), attrs, kind);
  const conds = new Map<string, KeyPredicate>();
  collect(cond, conds);
  return keyConditionFromPredicates(conds, key);
}
