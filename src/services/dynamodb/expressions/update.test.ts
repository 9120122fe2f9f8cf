import { describe, expect, it } from 'vitest';
import type { AttributeValue, Item } from '../types.ts';
import {
  applyProjection,
  applyUpdate,
  ExpressionAttributes,
  parseProjection,
  parseUpdate,
  touchedTopLevelNames,
  updatedPaths,
  updatedProjection,
} from './index.ts';

const base: Item = {
  id: { S: 'k' },
  n: { N: '5' },
  s: { S: 'str' },
  l: { L: [{ S: 'a' }, { S: 'b' }, { S: 'c' }] },
  m: { M: { a: { N: '1' }, kid: { M: { x: { S: 'deep' } } } } },
  ss: { SS: ['a', 'b'] },
  ns: { NS: ['1', '2'] },
};

const values: Record<string, AttributeValue> = {
  ':one': { N: '1' },
  ':half': { N: '0.5' },
  ':huge': { N: '9e125' },
  ':big': { N: '99999999999999999999999999999999999999' },
  ':s': { S: 'v' },
  ':l': { L: [{ S: 'z' }] },
  ':ss': { SS: ['b', 'c'] },
  ':ns': { NS: ['2', '3'] },
  ':ssab': { SS: ['a', 'b'] },
  ':m': { M: { q: { BOOL: true } } },
  ':null': { NULL: true },
  ':bool': { BOOL: false },
  ':b': { B: 'AQ==' },
};
const names = { '#n': 'n', '#dot': 'a.b', '#st': 'status' };

function attrsFor(expr: string): ExpressionAttributes {
  const usedNames = Object.fromEntries(Object.entries(names).filter(([k]) => new RegExp(`${k}\\b`).test(expr)));
  const usedValues = Object.fromEntries(Object.entries(values).filter(([k]) => new RegExp(`${k}\\b`).test(expr)));
  return new ExpressionAttributes(
    Object.keys(usedNames).length ? usedNames : undefined,
    Object.keys(usedValues).length ? usedValues : undefined,
  );
}

function update(expr: string, item: Item = base): Item {
  const attrs = attrsFor(expr);
  const u = parseUpdate(expr, attrs);
  attrs.assertAllUsed();
  return applyUpdate(u, item);
}

const applied: [string, Record<string, AttributeValue | undefined>][] = [
  ['SET n = :one', { n: { N: '1' } }],
  ['SET n = n + :one', { n: { N: '6' } }],
  ['SET n = n - :half', { n: { N: '4.5' } }],
  ['SET n = :one - n', { n: { N: '-4' } }],
  ['SET #n = #n + :half', { n: { N: '5.5' } }],
  ['SET n = :big + :one', { n: { N: '100000000000000000000000000000000000000' } }],
  ['SET x = if_not_exists(x, :one)', { x: { N: '1' } }],
  ['SET n = if_not_exists(n, :one)', { n: { N: '5' } }],
  ['SET l = list_append(l, :l)', { l: { L: [{ S: 'a' }, { S: 'b' }, { S: 'c' }, { S: 'z' }] } }],
  ['SET l = list_append(:l, l)', { l: { L: [{ S: 'z' }, { S: 'a' }, { S: 'b' }, { S: 'c' }] } }],
  ['SET x = list_append(if_not_exists(x, :l), :l)', { x: { L: [{ S: 'z' }, { S: 'z' }] } }],
  ['SET x = s', { x: { S: 'str' } }],
  ['SET m.a = :s', { m: { M: { a: { S: 'v' }, kid: { M: { x: { S: 'deep' } } } } } }],
  ['SET m.kid.y = :one', { m: { M: { a: { N: '1' }, kid: { M: { x: { S: 'deep' }, y: { N: '1' } } } } } }],
  ['SET m.#dot = :one', { m: { M: { a: { N: '1' }, kid: { M: { x: { S: 'deep' } } }, 'a.b': { N: '1' } } } }],
  ['SET l[1] = :s', { l: { L: [{ S: 'a' }, { S: 'v' }, { S: 'c' }] } }],
  ['SET l[10] = :s', { l: { L: [{ S: 'a' }, { S: 'b' }, { S: 'c' }, { S: 'v' }] } }],
  ['SET l[10] = :s, l[7] = :one', { l: { L: [{ S: 'a' }, { S: 'b' }, { S: 'c' }, { N: '1' }, { S: 'v' }] } }],
  ['SET n = s, s = n', { n: { S: 'str' }, s: { N: '5' } }],
  ['REMOVE n', { n: undefined }],
  ['REMOVE absent', {}],
  ['REMOVE l[0]', { l: { L: [{ S: 'b' }, { S: 'c' }] } }],
  ['REMOVE l[0], l[2]', { l: { L: [{ S: 'b' }] } }],
  ['REMOVE l[5]', {}],
  ['REMOVE m.kid.x', { m: { M: { a: { N: '1' }, kid: { M: {} } } } }],
  ['REMOVE l[0] SET l[1] = :s', { l: { L: [{ S: 'v' }, { S: 'c' }] } }],
  ['ADD n :one', { n: { N: '6' } }],
  ['ADD x :half', { x: { N: '0.5' } }],
  ['ADD ss :ss', { ss: { SS: ['a', 'b', 'c'] } }],
  ['ADD ns :ns', { ns: { NS: ['1', '2', '3'] } }],
  ['ADD x :ss', { x: { SS: ['b', 'c'] } }],
  ['ADD m.a :one', { m: { M: { a: { N: '2' }, kid: { M: { x: { S: 'deep' } } } } } }],
  ['DELETE ss :ss', { ss: { SS: ['a'] } }],
  ['DELETE ss :ssab', { ss: undefined }],
  ['DELETE ns :ns', { ns: { NS: ['1'] } }],
  ['DELETE absent :ss', {}],
  ['set n = :one remove s add x :one delete ss :ss', { n: { N: '1' }, s: undefined, x: { N: '1' }, ss: { SS: ['a'] } }],
  ['SET a = :one, b = :s', { a: { N: '1' }, b: { S: 'v' } }],
];

describe('applyUpdate', () => {
  it.each(applied)('%s', (expr, changes) => {
    const before = structuredClone(base);
    const expected: Item = { ...base };
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) delete expected[k];
      else expected[k] = v;
    }
    expect(update(expr)).toEqual(expected);
    expect(base).toEqual(before); // never mutates its input
  });
});

const applyErrors: [string, string][] = [
  ['SET x = absent', 'The provided expression refers to an attribute that does not exist in the item'],
  ['SET x = absent + :one', 'The provided expression refers to an attribute that does not exist in the item'],
  ['SET x = list_append(absent, :l)', 'The provided expression refers to an attribute that does not exist in the item'],
  ['SET x = s + :one', 'An operand in the update expression has an incorrect data type'],
  ['SET x = list_append(s, :l)', 'An operand in the update expression has an incorrect data type'],
  ['SET absent.a = :one', 'The document path provided in the update expression is invalid for update'],
  ['SET s[0] = :one', 'The document path provided in the update expression is invalid for update'],
  ['SET l.a = :one', 'The document path provided in the update expression is invalid for update'],
  ['REMOVE absent.a', 'The document path provided in the update expression is invalid for update'],
  ['ADD s :one', 'An operand in the update expression has an incorrect data type'],
  ['ADD ss :ns', 'An operand in the update expression has an incorrect data type'],
  ['DELETE ss :ns', 'An operand in the update expression has an incorrect data type'],
  ['SET n = :big + :big', 'Attempting to store more than 38 significant digits in a Number'],
  ['SET n = :huge + :huge', 'Number overflow. Attempting to store a number with magnitude larger than supported range'],
];

describe('applyUpdate errors', () => {
  it.each(applyErrors)('%s', (expr, text) => {
    expect(() => update(expr)).toThrow(text);
  });
});

const parseErrors: [string, string][] = [
  [
    'SET a = :one, a.b = :one',
    'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]',
  ],
  [
    'SET a.b = :one REMOVE a',
    'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]',
  ],
  [
    'SET a[1] = :one REMOVE a.b',
    'Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [1]], path two: [a, b]',
  ],
  [
    'SET a = :one SET b = :one',
    'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;',
  ],
  [
    'REMOVE a REMOVE b',
    'Invalid UpdateExpression: The "REMOVE" section can only be used once in an update expression;',
  ],
  [
    'ADD a :s',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING',
  ],
  [
    'ADD a :l',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: LIST',
  ],
  [
    'ADD a :m',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: MAP',
  ],
  [
    'ADD a :bool',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: BOOLEAN',
  ],
  [
    'ADD a :b',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: BINARY',
  ],
  [
    'ADD a :null',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: NULL',
  ],
  [
    'DELETE a :one',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER',
  ],
  [
    'SET a = :s + :one',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S',
  ],
  [
    'SET a = list_append(:s, a)',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: S',
  ],
  [
    'SET a = if_not_exists(:s, a)',
    'Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists',
  ],
  [
    'SET a = list_append(a)',
    'Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1',
  ],
  ['SET a = size(a)', 'Invalid UpdateExpression: The function is not allowed in an update expression; function: size'],
  ['SET a = foo(a)', 'Invalid UpdateExpression: Invalid function name; function: foo'],
  [
    'SET a[2147483648] = :one',
    'Invalid UpdateExpression: List index is not within the allowable range; index: [2147483648]',
  ],
  ['SET status = :one', 'Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status'],
  [
    'SET a = :nope',
    'Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :nope',
  ],
  [
    'SET #nope = :one',
    'Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #nope',
  ],
  ['SET a = :one,', 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ","'],
  ['SET a-b = :one', 'Invalid UpdateExpression: Syntax error; token: "-", near: "a-b"'],
  ['SET a', 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "a"'],
  ['a = :one', 'Invalid UpdateExpression: Syntax error; token: "a", near: "a ="'],
  ['SET a = b + c + d', 'Invalid UpdateExpression: Syntax error; token: "+", near: "c + d"'],
  ['', 'Invalid UpdateExpression: The expression can not be empty;'],
];

describe('update parse errors', () => {
  it.each(parseErrors)('%s', (expr, text) => {
    let message = 'no error';
    try {
      parseUpdate(expr, attrsFor(expr));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(text);
  });
});

describe('update introspection', () => {
  it('reports touched attributes and updated paths', () => {
    const u = parseUpdate('SET a.b = :one, c = :one REMOVE d[0] ADD e :one', attrsFor(':one'));
    expect([...touchedTopLevelNames(u)]).toEqual(['a', 'c', 'd', 'e']);
    expect(updatedPaths(u)).toEqual([['a'], ['c'], ['d'], ['e']]);
    const item: Item = {
      a: { M: { b: { N: '1' }, other: { S: 'x' } } },
      c: { S: 'c' },
      d: { L: [{ S: 'd0' }, { S: 'd1' }] },
      z: { S: 'z' },
    };
    expect(applyProjection(updatedProjection(u), item)).toEqual({
      a: { M: { b: { N: '1' } } },
      c: { S: 'c' },
      d: { L: [{ S: 'd0' }] },
    });
  });
});

describe('projections', () => {
  const item: Item = {
    id: { S: 'k' },
    l: { L: [{ S: 'a' }, { M: { x: { N: '1' }, y: { N: '2' } } }, { S: 'c' }] },
    m: { M: { a: { N: '1' }, b: { N: '2' }, kid: { M: { z: { S: 'z' } } } } },
    'a.b': { S: 'dotted' },
  };
  const cases: [string, Item][] = [
    ['id', { id: { S: 'k' } }],
    ['id, absent', { id: { S: 'k' } }],
    ['m.a', { m: { M: { a: { N: '1' } } } }],
    ['m.a, m.kid.z', { m: { M: { a: { N: '1' }, kid: { M: { z: { S: 'z' } } } } } }],
    ['l[1]', { l: { L: [{ M: { x: { N: '1' }, y: { N: '2' } } }] } }],
    ['l[2], l[0]', { l: { L: [{ S: 'a' }, { S: 'c' }] } }],
    ['l[1].y', { l: { L: [{ M: { y: { N: '2' } } }] } }],
    ['l[7]', {}],
    ['#dot', { 'a.b': { S: 'dotted' } }],
    ['m.absent', {}],
  ];
  it.each(cases)('%s', (expr, expected) => {
    const attrs = attrsFor(expr);
    const p = parseProjection(expr, attrs);
    attrs.assertAllUsed();
    expect(applyProjection(p, item)).toEqual(expected);
  });

  const errors: [string, string][] = [
    [
      'a, a.b',
      'Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]',
    ],
    [
      'a, a',
      'Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]',
    ],
    [
      'a[0], a.b',
      'Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]',
    ],
    ['status', 'Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: status'],
    ['!!', 'Invalid ProjectionExpression: Syntax error; token: "!", near: "!!"'],
    ['a,', 'Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ","'],
    [
      '#nope',
      'Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #nope',
    ],
  ];
  it.each(errors)('refuses %s', (expr, text) => {
    expect(() => parseProjection(expr, attrsFor(expr))).toThrow(text);
  });
});
