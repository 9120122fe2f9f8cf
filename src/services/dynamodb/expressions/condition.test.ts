import { describe, expect, it } from 'vitest';
import type { AttributeValue, Item } from '../types.ts';
import { ExpressionAttributes, evaluateCondition, parseCondition } from './index.ts';

const item: Item = {
  id: { S: 'user#1' },
  n: { N: '5' },
  neg: { N: '-2.5' },
  s: { S: 'hello' },
  b: { B: 'AQID' },
  ss: { SS: ['a', 'b'] },
  ns: { NS: ['1', '2'] },
  bs: { BS: ['AQ=='] },
  l: { L: [{ S: 'x' }, { N: '7' }, { M: { deep: { BOOL: true } } }] },
  m: { M: { a: { N: '1' }, 'dotted.name': { S: 'y' }, inside: { M: { z: { NULL: true } } } } },
  t: { BOOL: true },
  nul: { NULL: true },
  status: { S: 'active' },
};

const values: Record<string, AttributeValue> = {
  ':n4': { N: '4' },
  ':n5': { N: '5.0' },
  ':n6': { N: '6' },
  ':n3': { N: '3' },
  ':n7': { N: '7' },
  ':s': { S: 'hello' },
  ':he': { S: 'he' },
  ':ell': { S: 'ell' },
  ':a': { S: 'a' },
  ':x': { S: 'x' },
  ':y': { S: 'y' },
  ':one': { N: '1' },
  ':b1': { B: 'AQ==' },
  ':b2': { B: 'Ag==' },
  ':tS': { S: 'S' },
  ':tN': { S: 'N' },
  ':tSS': { S: 'SS' },
  ':tM': { S: 'M' },
  ':tNULL': { S: 'NULL' },
  ':true': { BOOL: true },
  ':l': { L: [{ S: 'x' }, { N: '7' }, { M: { deep: { BOOL: true } } }] },
  ':ssba': { SS: ['b', 'a'] },
  ':active': { S: 'active' },
};
const names = { '#st': 'status', '#d': 'dotted.name', '#m': 'm' };

/** Parse with only the placeholders the expression uses (so unused ones never get in the way). */
function cond(expr: string, kind: 'ConditionExpression' | 'FilterExpression' = 'ConditionExpression') {
  const usedNames = Object.fromEntries(Object.entries(names).filter(([k]) => new RegExp(`${k}\\b`).test(expr)));
  const usedValues = Object.fromEntries(Object.entries(values).filter(([k]) => new RegExp(`${k}\\b`).test(expr)));
  const attrs = new ExpressionAttributes(
    Object.keys(usedNames).length ? usedNames : undefined,
    Object.keys(usedValues).length ? usedValues : undefined,
  );
  const c = parseCondition(expr, attrs, kind);
  attrs.assertAllUsed();
  return c;
}

const evaluations: [string, boolean][] = [
  ['n = :n5', true],
  ['n = :n4', false],
  ['n <> :n4', true],
  ['n <> :n5', false],
  ['absent <> :n4', true],
  ['absent = :n4', false],
  ['n > :n4', true],
  ['n >= :n5', true],
  ['n < :n5', false],
  ['n <= :n5', true],
  ['neg < :n3', true],
  ['s > :a', true],
  ['s < :n4', false],
  ['n BETWEEN :n4 AND :n6', true],
  ['n between :n6 and :n7', false],
  ['n IN (:n3, :n5)', true],
  ['n IN (:n3, :n4)', false],
  ['absent IN (:n3)', false],
  ['attribute_exists(n)', true],
  ['attribute_exists(absent)', false],
  ['attribute_not_exists(absent)', true],
  ['attribute_exists(m.a)', true],
  ['attribute_exists(m.b)', false],
  ['attribute_exists(m.inside.z)', true],
  ['attribute_exists(l[2].deep)', true],
  ['attribute_exists(l[3])', false],
  ['attribute_exists(m[0])', false],
  ['attribute_exists(#m.#d)', true],
  ['attribute_exists(m.dotted)', false],
  ['attribute_type(n, :tN)', true],
  ['attribute_type(n, :tS)', false],
  ['attribute_type(ss, :tSS)', true],
  ['attribute_type(m, :tM)', true],
  ['attribute_type(nul, :tNULL)', true],
  ['begins_with(s, :he)', true],
  ['begins_with(s, :ell)', false],
  ['begins_with(b, :b1)', true],
  ['begins_with(b, :b2)', false],
  ['begins_with(n, :he)', false],
  ['contains(s, :ell)', true],
  ['contains(ss, :a)', true],
  ['contains(ss, :x)', false],
  ['contains(ns, :one)', true],
  ['contains(bs, :b1)', true],
  ['contains(l, :x)', true],
  ['contains(l, :n7)', true],
  ['contains(l, :y)', false],
  ['contains(b, :b2)', true],
  ['size(s) = :n5', true],
  ['size(ss) < :n3', true],
  ['size(l) = :n3', true],
  ['size(m) = :n3', true],
  ['size(b) = :n3', true],
  ['size(n) = :one', false],
  ['size(absent) = :one', false],
  ['size(s) > size(ss)', true],
  ['t = :true', true],
  ['l = :l', true],
  ['ss = :ssba', true],
  ['#st = :active', true],
  ['n = :n5 AND s = :s', true],
  ['n = :n4 AND s = :s', false],
  ['n = :n4 OR s = :s', true],
  ['NOT n = :n4', true],
  ['NOT (n = :n5 AND s = :s)', false],
  ['not attribute_exists(absent) and n = :n5', true],
  // precedence: NOT > AND > OR
  ['n = :n4 AND s = :s OR t = :true', true],
  ['t = :true OR n = :n4 AND s = :x', true],
  ['(t = :true OR n = :n4) AND s = :x', false],
  ['NOT n = :n4 AND n = :n4', false],
  ['(n) = (:n5)', true],
  ['  n   =   :n5  ', true],
  ['n=:n5', true],
  [':n5 = n', true],
  [':n4 < n', true],
];

describe('condition evaluation', () => {
  it.each(evaluations)('%s -> %s', (expr, expected) => {
    expect(evaluateCondition(cond(expr), item)).toBe(expected);
  });

  it('treats a absent item as having no attributes', () => {
    expect(evaluateCondition(cond('attribute_not_exists(id)'), undefined)).toBe(true);
    expect(evaluateCondition(cond('id = :a'), undefined)).toBe(false);
  });
});

const errors: [string, string][] = [
  ['a =', 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="'],
  ['a = = :a', 'Invalid ConditionExpression: Syntax error; token: "=", near: "= = :a"'],
  ['a = :a b', 'Invalid ConditionExpression: Syntax error; token: "b", near: ":a b"'],
  ['_a = :a', 'Invalid ConditionExpression: Syntax error; token: "_", near: "_a"'],
  ['a.0 = :a', 'Invalid ConditionExpression: Syntax error; token: "0", near: ".0 ="'],
  ['a[x] = :a', 'Invalid ConditionExpression: Syntax error; token: "x", near: "[x]"'],
  ['a = :a AND', 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND"'],
  ['', 'Invalid ConditionExpression: The expression can not be empty;'],
  ['status = :a', 'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status'],
  ['a.Date = :a', 'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Date'],
  [
    'a = :nope',
    'Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope',
  ],
  [
    '#nope = :a',
    'Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #nope',
  ],
  [
    'size(a)',
    'Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size',
  ],
  [
    'attribute_exists(a) = :a',
    'Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists',
  ],
  ['foo(a)', 'Invalid ConditionExpression: Invalid function name; function: foo'],
  [
    'a = list_append(a, :l)',
    'Invalid ConditionExpression: The function is not allowed in a condition expression; function: list_append',
  ],
  [
    'a[99999999999] = :a',
    'Invalid ConditionExpression: List index is not within the allowable range; index: [99999999999]',
  ],
  [
    'attribute_exists(a, b)',
    'Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2',
  ],
  [
    'attribute_exists(:a)',
    'Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists',
  ],
  [
    'begins_with(a, :one)',
    'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N',
  ],
  [
    'size(:one) = :one',
    'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: N',
  ],
  [
    'attribute_type(a, :one)',
    'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N',
  ],
  [
    'attribute_type(a, :x)',
    'Invalid ConditionExpression: Invalid attribute type name found; type: x, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}',
  ],
  [
    'a = a',
    'Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]',
  ],
  [
    'contains(a.b, a.b)',
    'Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [a, b]',
  ],
  ['((a = :a))', 'Invalid ConditionExpression: The expression has redundant parentheses;'],
  ['((a)) = :a', 'Invalid ConditionExpression: The expression has redundant parentheses;'],
  [
    'a BETWEEN :n4 AND :a',
    'Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:4}, upper bound operand: AttributeValue: {S:a}',
  ],
  [
    'a BETWEEN :n6 AND :n4',
    'Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:6}, upper bound operand: AttributeValue: {N:4}',
  ],
  // error ranking: redundant parentheses before unknown function before reserved word
  ['((status = :a)) AND foo(a)', 'Invalid ConditionExpression: The expression has redundant parentheses;'],
  ['status = :a AND foo(a)', 'Invalid ConditionExpression: Invalid function name; function: foo'],
  [
    'a = :nope AND status = :a',
    'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status',
  ],
];

describe('condition errors', () => {
  it.each(errors)('%s', (expr, text) => {
    expect(() => cond(expr)).toThrow(text);
    try {
      cond(expr);
    } catch (e) {
      expect((e as Error).message).toBe(text);
      expect((e as { code: string }).code).toBe('ValidationException');
    }
  });

  it('names the expression kind', () => {
    expect(() => cond('a =', 'FilterExpression')).toThrow('Invalid FilterExpression: Syntax error; token: "<EOF>"');
  });

  it('limits IN to 100 operands', () => {
    const list = Array.from({ length: 101 }, () => ':a').join(', ');
    expect(() => cond(`a IN (${list})`)).toThrow(
      'Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101',
    );
    expect(() => cond(`a IN (${Array.from({ length: 100 }, () => ':a').join(', ')})`)).not.toThrow();
  });

  it('limits expressions to 300 operators', () => {
    const ok = Array.from({ length: 150 }, () => 'a = :a').join(' OR ');
    expect(() => cond(ok)).not.toThrow(); // 150 comparisons + 149 ORs
    expect(() => cond(`${ok} OR b = :a`)).toThrow(
      'Invalid ConditionExpression: The expression contains too many operators; operator count: 301',
    );
  });

  it('limits expressions to 4 KB', () => {
    const expr = `a = :a${' OR a = :a'.repeat(420)}`;
    expect(() => cond(expr)).toThrow(
      `Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: ${expr.length}`,
    );
  });

  it('serves repeated expressions from the cache with fresh bindings', () => {
    const a1 = new ExpressionAttributes(undefined, { ':v': { N: '5' } });
    const a2 = new ExpressionAttributes(undefined, { ':v': { N: '6' } });
    expect(evaluateCondition(parseCondition('n = :v', a1, 'ConditionExpression'), item)).toBe(true);
    expect(evaluateCondition(parseCondition('n = :v', a2, 'ConditionExpression'), item)).toBe(false);
    expect(() => parseCondition('n = ', a1, 'ConditionExpression')).toThrow('Syntax error');
    expect(() => parseCondition('n = ', a1, 'FilterExpression')).toThrow('Invalid FilterExpression: Syntax error');
  });
});

describe('ExpressionAttributes', () => {
  const cases: [() => unknown, string][] = [
    [() => new ExpressionAttributes({}), 'ExpressionAttributeNames must not be empty'],
    [() => new ExpressionAttributes(undefined, {}), 'ExpressionAttributeValues must not be empty'],
    [
      () => new ExpressionAttributes({ x: 'a' }),
      'ExpressionAttributeNames contains invalid key: Syntax error; key: "x"',
    ],
    [
      () => new ExpressionAttributes(undefined, { v: { S: 'a' } }),
      'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"',
    ],
    [
      () => new ExpressionAttributes(undefined, { ':v': { SS: [] } }),
      'ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :v',
    ],
    [
      () => {
        const a = new ExpressionAttributes({ '#a': 'a', '#b': 'b' }, { ':v': { S: 'x' }, ':w': { S: 'y' } });
        parseCondition('#a = :v', a, 'ConditionExpression');
        a.assertAllUsed();
      },
      'Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}',
    ],
    [
      () => {
        const a = new ExpressionAttributes(undefined, { ':v': { S: 'x' }, ':w': { S: 'y' }, ':z': { S: 'y' } });
        parseCondition('a = :v', a, 'ConditionExpression');
        a.assertAllUsed();
      },
      'Value provided in ExpressionAttributeValues unused in expressions: keys: {:w, :z}',
    ],
  ];
  it.each(cases)('%#', (f, text) => {
    expect(f).toThrow(text);
  });

  it('canonicalizes values', () => {
    const a = new ExpressionAttributes(undefined, { ':v': { N: '5.00' } });
    expect(a.value(':v')).toEqual({ N: '5' });
  });
});
