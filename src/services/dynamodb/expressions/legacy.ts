import { validation } from '../../../core/errors.ts';
import type { AttributeValue, KeyDef } from '../types.ts';
import { compareScalars, typeOf, validateAttributeValue } from '../values/attribute.ts';
import type { Condition, Operand } from './condition.ts';
import { type KeyCondition, type KeyPredicate, keyConditionFromPredicates } from './key-condition.ts';
import type { Update, UpdateAction } from './update.ts';

/**
 * The legacy (pre-expression) request parameters — Expected, QueryFilter / ScanFilter,
 * KeyConditions, AttributeUpdates, AttributesToGet — converted to the same resolved forms the
 * expression parsers produce, with DynamoDB's validation texts.
 */

export interface LegacyCondition {
  ComparisonOperator?: string;
  AttributeValueList?: unknown[];
  Value?: unknown;
  Exists?: boolean;
}

export interface LegacyAttributeUpdate {
  Action?: 'PUT' | 'ADD' | 'DELETE';
  Value?: unknown;
}

const INVALID = 'One or more parameter values were invalid: ';

const ARG_COUNTS: Record<string, [number, number]> = {
  EQ: [1, 1],
  NE: [1, 1],
  LE: [1, 1],
  LT: [1, 1],
  GE: [1, 1],
  GT: [1, 1],
  CONTAINS: [1, 1],
  NOT_CONTAINS: [1, 1],
  BEGINS_WITH: [1, 1],
  NOT_NULL: [0, 0],
  NULL: [0, 0],
  IN: [1, Number.POSITIVE_INFINITY],
  BETWEEN: [2, 2],
};

/** The value types each operator accepts in QueryFilter / ScanFilter / KeyConditions. */
const FILTER_TYPES: Record<string, string[]> = {
  EQ: ['S', 'N', 'B', 'SS', 'NS', 'BS'],
  NE: ['S', 'N', 'B', 'SS', 'NS', 'BS'],
  LE: ['S', 'N', 'B'],
  LT: ['S', 'N', 'B'],
  GE: ['S', 'N', 'B'],
  GT: ['S', 'N', 'B'],
  CONTAINS: ['S', 'N', 'B'],
  NOT_CONTAINS: ['S', 'N', 'B'],
  BEGINS_WITH: ['S', 'B'],
  IN: ['S', 'N', 'B'],
  BETWEEN: ['S', 'N', 'B'],
};

const value = (v: unknown): AttributeValue => validateAttributeValue(v);

/** Count, same-type and BETWEEN-order checks shared by every ComparisonOperator form. */
function checkOperator(op: string, values: AttributeValue[], checkTypes: boolean): void {
  const counts = ARG_COUNTS[op];
  if (!counts) throw validation(`${INVALID}Unsupported operator on ComparisonOperator: ${op}`);
  if (values.length < counts[0] || values.length > counts[1])
    throw validation(`${INVALID}Invalid number of argument(s) for the ${op} ComparisonOperator`);
  if (values.length) {
    const t = typeOf(values[0]);
    if (values.some((v) => typeOf(v) !== t))
      throw validation(`${INVALID}AttributeValues inside AttributeValueList must be of same type`);
  }
  if (checkTypes && FILTER_TYPES[op]) {
    for (const v of values) {
      const t = typeOf(v) as string;
      if (!FILTER_TYPES[op].includes(t))
        throw validation(`${INVALID}ComparisonOperator ${op} is not valid for ${t} AttributeValue type`);
    }
  }
  if (op === 'BETWEEN' && (compareScalars(values[0], values[1]) ?? 0) > 0)
    throw validation(
      'The BETWEEN condition was provided a range where the lower bound is greater than the upper bound',
    );
}

function operatorCondition(attr: string, op: string, values: AttributeValue[]): Condition {
  const a: Operand = { k: 'path', p: [attr] };
  const v = (i: number): Operand => ({ k: 'val', v: values[i] });
  switch (op) {
    case 'EQ':
      return { k: 'cmp', op: '=', a, b: v(0) };
    case 'NE':
      return { k: 'cmp', op: '<>', a, b: v(0) };
    case 'LE':
      return { k: 'cmp', op: '<=', a, b: v(0) };
    case 'LT':
      return { k: 'cmp', op: '<', a, b: v(0) };
    case 'GE':
      return { k: 'cmp', op: '>=', a, b: v(0) };
    case 'GT':
      return { k: 'cmp', op: '>', a, b: v(0) };
    case 'NULL':
      return { k: 'not_exists', p: [attr] };
    case 'NOT_NULL':
      return { k: 'exists', p: [attr] };
    case 'CONTAINS':
      return { k: 'contains', a, b: v(0) };
    case 'NOT_CONTAINS':
      return { k: 'not', c: { k: 'contains', a, b: v(0) } };
    case 'BEGINS_WITH':
      return { k: 'begins_with', a, b: v(0) };
    case 'IN':
      return { k: 'in', a, list: values.map((_, i) => v(i)) };
    default:
      return { k: 'between', a, lo: v(0), hi: v(1) };
  }
}

function combine(list: Condition[], conditionalOperator?: string): Condition {
  if (!list.length) return { k: 'true' };
  if (list.length === 1) return list[0];
  return { k: conditionalOperator === 'OR' ? 'or' : 'and', list };
}

/** The legacy Expected parameter (PutItem / UpdateItem / DeleteItem). */
export function conditionFromExpected(
  expected: Record<string, LegacyCondition>,
  conditionalOperator?: string,
): Condition {
  const list: Condition[] = [];
  for (const attr of Object.keys(expected)) {
    const c = expected[attr] ?? {};
    const hasList = c.AttributeValueList != null;
    const hasValue = c.Value != null;
    if (hasList && hasValue)
      throw validation(`${INVALID}Value and AttributeValueList cannot be used together for Attribute: ${attr}`);
    if (c.ComparisonOperator != null) {
      const op = c.ComparisonOperator;
      if (c.Exists != null)
        throw validation(`${INVALID}Exists and ComparisonOperator cannot be used together for Attribute: ${attr}`);
      if (op !== 'NULL' && op !== 'NOT_NULL' && !hasList && !hasValue)
        throw validation(
          `${INVALID}Value or AttributeValueList must be used with ComparisonOperator: ${op} for Attribute: ${attr}`,
        );
      const values = (hasList ? (c.AttributeValueList as unknown[]) : hasValue ? [c.Value] : []).map(value);
      checkOperator(op, values, false);
      list.push(operatorCondition(attr, op, values));
    } else if (hasList) {
      throw validation(
        `${INVALID}AttributeValueList can only be used with a ComparisonOperator for Attribute: ${attr}`,
      );
    } else {
      const exists = c.Exists == null || c.Exists;
      if (exists && !hasValue)
        throw validation(
          `${INVALID}Value must be provided when Exists is ${c.Exists == null ? 'null' : c.Exists} for Attribute: ${attr}`,
        );
      if (!exists && hasValue)
        throw validation(`${INVALID}Value cannot be used when Exists is false for Attribute: ${attr}`);
      list.push(exists ? operatorCondition(attr, 'EQ', [value(c.Value)]) : { k: 'not_exists', p: [attr] });
    }
  }
  return combine(list, conditionalOperator);
}

function predicates(filter: Record<string, LegacyCondition>): [string, string, AttributeValue[]][] {
  const out: [string, string, AttributeValue[]][] = [];
  for (const attr of Object.keys(filter)) {
    const c = filter[attr] ?? {};
    const op = c.ComparisonOperator as string;
    const values = (c.AttributeValueList ?? []).map(value);
    checkOperator(op, values, true);
    out.push([attr, op, values]);
  }
  return out;
}

/** The legacy QueryFilter / ScanFilter parameters. */
export function conditionFromFilter(filter: Record<string, LegacyCondition>, conditionalOperator?: string): Condition {
  return combine(
    predicates(filter).map(([attr, op, values]) => operatorCondition(attr, op, values)),
    conditionalOperator,
  );
}

/** The legacy KeyConditions parameter of Query, for the key schema (table or index) queried. */
export function keyConditionFromLegacy(keyConditions: Record<string, LegacyCondition>, key: KeyDef): KeyCondition {
  const conds = new Map<string, KeyPredicate>();
  for (const [attr, op, values] of predicates(keyConditions)) conds.set(attr, { op, values });
  return keyConditionFromPredicates(conds, key);
}

/** The legacy AttributeUpdates parameter of UpdateItem. */
export function updateFromAttributeUpdates(attributeUpdates: Record<string, LegacyAttributeUpdate>): Update {
  const actions: UpdateAction[] = [];
  for (const attr of Object.keys(attributeUpdates)) {
    const u = attributeUpdates[attr] ?? {};
    const action = u.Action ?? 'PUT';
    const v = u.Value != null ? value(u.Value) : undefined;
    if (v === undefined && action !== 'DELETE')
      throw validation(`${INVALID}Only DELETE action is allowed when no attribute value is specified`);
    const t = v ? (typeOf(v) as string) : '';
    if (v && action === 'DELETE' && t !== 'SS' && t !== 'NS' && t !== 'BS')
      throw validation(`${INVALID}DELETE action with value is not supported for the type ${t}`);
    if (v && action === 'ADD' && !['L', 'SS', 'NS', 'BS', 'N'].includes(t))
      throw validation(`${INVALID}ADD action is not supported for the type ${t}`);
    if (action === 'PUT') actions.push({ k: 'SET', p: [attr], v: { k: 'val', v: v as AttributeValue } });
    else if (action === 'DELETE') actions.push(v ? { k: 'DELETE', p: [attr], v } : { k: 'REMOVE', p: [attr] });
    else actions.push({ k: 'ADD', p: [attr], v: v as AttributeValue });
  }
  return { actions, legacy: true };
}
