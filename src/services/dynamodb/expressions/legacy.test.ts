import { describe, expect, it } from 'vitest';
import type { AttributeValue, Item, KeyDef } from '../types.ts';
import {
  applyProjection,
  applyUpdate,
  conditionFromExpected,
  conditionFromFilter,
  ExpressionAttributes,
  evaluateCondition,
  keyConditionFromLegacy,
  type LegacyCondition,
  parseKeyCondition,
  projectionFromAttributesToGet,
  updateFromAttributeUpdates,
} from './index.ts';

const table: KeyDef = { hash: 'pk', hashType: 'S', range: 'sk', rangeType: 'N' };
const hashOnly: KeyDef = { hash: 'pk', hashType: 'S' };
const values: Record<string, AttributeValue> = {
  ':p': { S: 'p' },
  ':n1': { N: '1' },
  ':n2': { N: '2' },
  ':s': { S: 's' },
};

function key(expr: string, k: KeyDef = table, names?: Record<string, string>) {
  const used = Object.fromEntries(Object.entries(values).filter(([v]) => new RegExp(`${v}\\b`).test(expr)));
  const attrs = new ExpressionAttributes(names, Object.keys(used).length ? used : undefined);
  const r = parseKeyCondition(expr, attrs, k);
  attrs.assertAllUsed();
  return r;
}

describe('key condition expressions', () => {
  const ok: [string, unknown][] = [
    ['pk = :p', { hash: { S: 'p' } }],
    [':p = pk', { hash: { S: 'p' } }],
    ['pk = :p AND sk = :n1', { hash: { S: 'p' }, range: { op: 'EQ', values: [{ N: '1' }] } }],
    ['sk < :n1 AND pk = :p', { hash: { S: 'p' }, range: { op: 'LT', values: [{ N: '1' }] } }],
    ['pk = :p AND :n1 < sk', { hash: { S: 'p' }, range: { op: 'GT', values: [{ N: '1' }] } }],
    ['pk = :p AND :n1 >= sk', { hash: { S: 'p' }, range: { op: 'LE', values: [{ N: '1' }] } }],
    [
      'pk = :p AND sk BETWEEN :n1 AND :n2',
      { hash: { S: 'p' }, range: { op: 'BETWEEN', values: [{ N: '1' }, { N: '2' }] } },
    ],
    ['(pk = :p) AND (sk >= :n1)', { hash: { S: 'p' }, range: { op: 'GE', values: [{ N: '1' }] } }],
  ];
  it.each(ok)('%s', (expr, expected) => {
    expect(key(expr)).toEqual(expected);
  });

  it('supports begins_with on string range keys and #names', () => {
    expect(
      key(
        '#k = :p AND begins_with(sk, :s)',
        { hash: 'pk', hashType: 'S', range: 'sk', rangeType: 'S' },
        { '#k': 'pk' },
      ),
    ).toEqual({ hash: { S: 'p' }, range: { op: 'BEGINS_WITH', values: [{ S: 's' }] } });
  });

  const errors: [string, string, KeyDef?][] = [
    ['sk = :n1', 'Query condition missed key schema element: pk'],
    ['pk = :p AND foo = :n1', 'Query condition missed key schema element: sk'],
    ['pk = :p AND sk = :n1', 'Query key condition not supported', hashOnly],
    ['pk < :p', 'Query key condition not supported'],
    ['pk = :n1', 'One or more parameter values were invalid: Condition parameter type does not match schema type'],
    [
      'pk = :p AND sk = :s',
      'One or more parameter values were invalid: Condition parameter type does not match schema type',
    ],
    ['pk = :p OR sk = :n1', 'Invalid operator used in KeyConditionExpression: OR'],
    ['pk = :p AND NOT sk = :n1', 'Invalid operator used in KeyConditionExpression: NOT'],
    ['pk IN (:p)', 'Invalid operator used in KeyConditionExpression: IN'],
    ['pk <> :p', 'Invalid operator used in KeyConditionExpression: <>'],
    ['attribute_exists(pk)', 'Invalid operator used in KeyConditionExpression: attribute_exists'],
    ['pk = :p AND contains(sk, :n1)', 'Invalid operator used in KeyConditionExpression: contains'],
    ['size(pk) = :n1', 'KeyConditionExpressions cannot contain nested operations'],
    ['pk = :p AND pk = :p', 'KeyConditionExpressions must only contain one condition per key'],
    ['pk.x = :p', 'KeyConditionExpressions cannot have conditions on nested attributes'],
    ['pk = sk', 'Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition'],
    [':p = :p', 'Invalid condition in KeyConditionExpression: No key attribute specified'],
    [
      'pk = :p AND :n1 BETWEEN sk AND :n2',
      'Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand',
    ],
    ['pk = :p AND sk > :n1 AND a = :n1', 'Conditions can be of length 1 or 2 only'],
    ['pk =', 'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "="'],
    [
      'pk = :p AND begins_with(sk, :n1)',
      'Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N',
    ],
  ];
  it.each(errors)('refuses %s', (expr, text, k) => {
    expect(() => key(expr, k ?? table)).toThrow(text);
  });
});

describe('legacy KeyConditions', () => {
  it('converts', () => {
    expect(
      keyConditionFromLegacy(
        {
          pk: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'p' }] },
          sk: { ComparisonOperator: 'BETWEEN', AttributeValueList: [{ N: '1' }, { N: '2.0' }] },
        },
        table,
      ),
    ).toEqual({ hash: { S: 'p' }, range: { op: 'BETWEEN', values: [{ N: '1' }, { N: '2' }] } });
  });
  const errors: [Record<string, LegacyCondition>, string][] = [
    [
      { pk: { ComparisonOperator: 'EQ', AttributeValueList: [] } },
      'One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator',
    ],
    [
      {
        pk: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'p' }] },
        sk: { ComparisonOperator: 'NE', AttributeValueList: [{ N: '1' }] },
      },
      'Attempted conditional constraint is not an indexable operation',
    ],
    [
      {
        pk: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'p' }] },
        sk: { ComparisonOperator: 'BETWEEN', AttributeValueList: [{ N: '2' }, { N: '1' }] },
      },
      'The BETWEEN condition was provided a range where the lower bound is greater than the upper bound',
    ],
    [
      {
        pk: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'p' }] },
        sk: { ComparisonOperator: 'BETWEEN', AttributeValueList: [{ N: '2' }, { S: '1' }] },
      },
      'One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type',
    ],
    [
      { pk: { ComparisonOperator: 'BEGINS_WITH', AttributeValueList: [{ N: '1' }] } },
      'One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type',
    ],
  ];
  it.each(errors)('refuses %j', (kc, text) => {
    expect(() => keyConditionFromLegacy(kc, table)).toThrow(text);
  });
});

const item: Item = { a: { N: '5' }, s: { S: 'hello' }, ss: { SS: ['x'] } };

describe('legacy Expected', () => {
  const cases: [Record<string, LegacyCondition>, string | undefined, boolean][] = [
    [{ a: { Value: { N: '5.0' } } }, undefined, true],
    [{ a: { Value: { N: '4' } } }, undefined, false],
    [{ a: { Exists: true, Value: { N: '5' } } }, undefined, true],
    [{ z: { Exists: false } }, undefined, true],
    [{ a: { Exists: false } }, undefined, false],
    [{ a: { ComparisonOperator: 'GT', AttributeValueList: [{ N: '4' }] } }, undefined, true],
    [{ a: { ComparisonOperator: 'GT', Value: { N: '5' } } }, undefined, false],
    [{ a: { ComparisonOperator: 'NOT_NULL' } }, undefined, true],
    [{ z: { ComparisonOperator: 'NULL' } }, undefined, true],
    [{ s: { ComparisonOperator: 'BEGINS_WITH', AttributeValueList: [{ S: 'he' }] } }, undefined, true],
    [{ ss: { ComparisonOperator: 'CONTAINS', AttributeValueList: [{ S: 'x' }] } }, undefined, true],
    [{ ss: { ComparisonOperator: 'NOT_CONTAINS', AttributeValueList: [{ S: 'x' }] } }, undefined, false],
    [{ a: { ComparisonOperator: 'IN', AttributeValueList: [{ N: '1' }, { N: '5' }] } }, undefined, true],
    [{ a: { ComparisonOperator: 'BETWEEN', AttributeValueList: [{ N: '1' }, { N: '5' }] } }, undefined, true],
    [{ a: { ComparisonOperator: 'NE', AttributeValueList: [{ N: '1' }] } }, undefined, true],
    [{ a: { Value: { N: '1' } }, s: { Value: { S: 'hello' } } }, 'OR', true],
    [{ a: { Value: { N: '1' } }, s: { Value: { S: 'hello' } } }, 'AND', false],
    [{}, undefined, true],
  ];
  it.each(cases)('%j %s -> %s', (expected, op, result) => {
    expect(evaluateCondition(conditionFromExpected(expected, op), item)).toBe(result);
  });

  const errors: [Record<string, LegacyCondition>, string][] = [
    [
      { a: { Value: { N: '1' }, AttributeValueList: [{ N: '1' }] } },
      'One or more parameter values were invalid: Value and AttributeValueList cannot be used together for Attribute: a',
    ],
    [
      { a: { ComparisonOperator: 'EQ', Exists: true } },
      'One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: a',
    ],
    [
      { a: { ComparisonOperator: 'EQ' } },
      'One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a',
    ],
    [
      { a: { ComparisonOperator: 'NULL', AttributeValueList: [{ N: '1' }] } },
      'One or more parameter values were invalid: Invalid number of argument(s) for the NULL ComparisonOperator',
    ],
    [
      { a: { AttributeValueList: [{ N: '1' }] } },
      'One or more parameter values were invalid: AttributeValueList can only be used with a ComparisonOperator for Attribute: a',
    ],
    [
      { a: {} },
      'One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: a',
    ],
    [
      { a: { Exists: true } },
      'One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a',
    ],
    [
      { a: { Exists: false, Value: { N: '1' } } },
      'One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: a',
    ],
  ];
  it.each(errors)('refuses %j', (expected, text) => {
    expect(() => conditionFromExpected(expected)).toThrow(text);
  });
});

describe('legacy filters', () => {
  it('evaluates', () => {
    const c = conditionFromFilter({ a: { ComparisonOperator: 'LE', AttributeValueList: [{ N: '5' }] } });
    expect(evaluateCondition(c, item)).toBe(true);
  });
  it('refuses set values for ordering operators', () => {
    expect(() => conditionFromFilter({ a: { ComparisonOperator: 'LT', AttributeValueList: [{ SS: ['x'] }] } })).toThrow(
      'One or more parameter values were invalid: ComparisonOperator LT is not valid for SS AttributeValue type',
    );
  });
});

describe('legacy AttributeUpdates and AttributesToGet', () => {
  it('applies PUT, ADD, DELETE', () => {
    const u = updateFromAttributeUpdates({
      a: { Action: 'ADD', Value: { N: '1' } },
      s: { Value: { S: 'new' } },
      ss: { Action: 'DELETE', Value: { SS: ['x'] } },
      l: { Action: 'ADD', Value: { L: [{ S: 'e' }] } },
      gone: { Action: 'DELETE' },
    });
    expect(applyUpdate(u, { ...item, gone: { S: 'x' } })).toEqual({
      a: { N: '6' },
      s: { S: 'new' },
      l: { L: [{ S: 'e' }] },
    });
  });
  const errors: [Record<string, { Action?: 'PUT' | 'ADD' | 'DELETE'; Value?: unknown }>, string][] = [
    [
      { a: { Action: 'PUT' } },
      'One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified',
    ],
    [
      { a: { Action: 'DELETE', Value: { S: 'x' } } },
      'One or more parameter values were invalid: DELETE action with value is not supported for the type S',
    ],
    [
      { a: { Action: 'ADD', Value: { S: 'x' } } },
      'One or more parameter values were invalid: ADD action is not supported for the type S',
    ],
  ];
  it.each(errors)('refuses %j', (au, text) => {
    expect(() => updateFromAttributeUpdates(au)).toThrow(text);
  });
  it('reports legacy type mismatches', () => {
    const u = updateFromAttributeUpdates({ s: { Action: 'ADD', Value: { N: '1' } } });
    expect(() => applyUpdate(u, item)).toThrow('Type mismatch for attribute to update');
  });
  it('projects AttributesToGet', () => {
    expect(applyProjection(projectionFromAttributesToGet(['a', 'zz']), item)).toEqual({ a: { N: '5' } });
  });
});
