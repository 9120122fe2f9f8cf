import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AttributeValue } from '../types.ts';
import {
  attributeEquals,
  attributeValueSize,
  compareScalars,
  itemSize,
  numberSize,
  validateAttributeValue,
  validateItem,
} from './attribute.ts';
import { compareDecimal, type Decimal, parseDecimalLoose } from './numbers.ts';

const msg = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('validateAttributeValue', () => {
  const canonical: [unknown, AttributeValue][] = [
    [{ N: '1.0' }, { N: '1' }],
    [{ N: '1e2' }, { N: '100' }],
    [{ N: '-0' }, { N: '0' }],
    [{ N: '0.00100' }, { N: '0.001' }],
    [{ N: '+12.50' }, { N: '12.5' }],
    [{ N: '1E-130' }, { N: `0.${'0'.repeat(129)}1` }],
    [{ NS: ['1.0', '2'] }, { NS: ['1', '2'] }],
    [{ S: '' }, { S: '' }],
    [{ B: 'AAE=' }, { B: 'AAE=' }],
    [{ NULL: true }, { NULL: true }],
    [{ BOOL: false }, { BOOL: false }],
    [{ M: { a: { N: '01' } } }, { M: { a: { N: '1' } } }],
    [{ L: [{ N: '2.50' }, { S: 'x' }] }, { L: [{ N: '2.5' }, { S: 'x' }] }],
    [{ S: 'x', N: undefined }, { S: 'x' }],
  ];
  it.each(canonical)('canonicalizes %j', (input, out) => {
    expect(validateAttributeValue(input)).toEqual(out);
  });

  const errors: [unknown, string][] = [
    [{}, 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes'],
    [
      { S: 'a', N: '1' },
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    ],
    [{ NS: [] }, 'One or more parameter values were invalid: An number set  may not be empty'],
    [{ SS: [] }, 'One or more parameter values were invalid: An string set  may not be empty'],
    [{ BS: [] }, 'One or more parameter values were invalid: Binary sets should not be empty'],
    [{ SS: ['a', 'a'] }, 'One or more parameter values were invalid: Input collection [a, a] contains duplicates.'],
    [{ NS: ['1', '1.0'] }, 'Input collection contains duplicates'],
    [
      { BS: ['AQ==', 'AQ=='] },
      'One or more parameter values were invalid: Input collection [AQ==, AQ==]of type BS contains duplicates.',
    ],
    [{ N: 'abc' }, 'The parameter cannot be converted to a numeric value: abc'],
    [{ N: '' }, 'The parameter cannot be converted to a numeric value'],
    [{ N: '1e126' }, 'Number overflow. Attempting to store a number with magnitude larger than supported range'],
    [{ N: '1e-131' }, 'Number underflow. Attempting to store a number with magnitude smaller than supported range'],
    [{ N: '1'.repeat(39) }, 'Attempting to store more than 38 significant digits in a Number'],
    [
      { NULL: false },
      'One or more parameter values were invalid: Null attribute value types must have the value of true',
    ],
    [{ L: [{}] }, 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes'],
  ];
  it.each(errors)('refuses %j', (input, text) => {
    expect(msg(() => validateAttributeValue(input))).toBe(text);
  });

  it('refuses documents nested deeper than 32 levels', () => {
    let ok: AttributeValue = { S: 'x' };
    for (let i = 0; i < 31; i++) ok = { L: [ok] };
    expect(() => validateItem({ a: ok }, 'Item')).not.toThrow();
    expect(msg(() => validateItem({ a: { M: { b: ok } } }, 'Item'))).toBe(
      'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit',
    );
  });

  it('validateItem returns a canonical copy', () => {
    const input = { a: { N: '1.50' }, b: { SS: ['x'] } };
    const out = validateItem(input, 'Item');
    expect(out).toEqual({ a: { N: '1.5' }, b: { SS: ['x'] } });
    expect(input.a.N).toBe('1.50');
  });
});

describe('attributeEquals / compareScalars', () => {
  const eq: [AttributeValue, AttributeValue, boolean][] = [
    [{ N: '1' }, { N: '1.0' }, true],
    [{ N: '1' }, { S: '1' }, false],
    [{ SS: ['a', 'b'] }, { SS: ['b', 'a'] }, true],
    [{ SS: ['a', 'b'] }, { SS: ['a'] }, false],
    [{ NS: ['1', '2'] }, { NS: ['2.0', '1'] }, true],
    [{ B: 'AQ==' }, { B: 'AQ==' }, true],
    [{ L: [{ N: '1' }] }, { L: [{ N: '1' }] }, true],
    [{ L: [{ N: '1' }, { N: '2' }] }, { L: [{ N: '2' }, { N: '1' }] }, false],
    [{ M: { a: { S: 'x' } } }, { M: { a: { S: 'x' } } }, true],
    [{ M: { a: { S: 'x' } } }, { M: { a: { S: 'x' }, b: { S: 'y' } } }, false],
    [{ NULL: true }, { NULL: true }, true],
    [{ BOOL: true }, { BOOL: false }, false],
  ];
  it.each(eq)('%j = %j is %s', (a, b, r) => {
    expect(attributeEquals(a, b)).toBe(r);
    expect(attributeEquals(b, a)).toBe(r);
  });

  const cmp: [AttributeValue, AttributeValue, number | undefined][] = [
    [{ N: '10' }, { N: '9' }, 1],
    [{ N: '-10' }, { N: '9' }, -1],
    [{ N: '0.1' }, { N: '0.10' }, 0],
    [{ S: 'a' }, { S: 'b' }, -1],
    [{ S: 'Z' }, { S: 'a' }, -1],
    [{ S: '\uffff' }, { S: '\u{10000}' }, -1], // UTF-8 byte order, not UTF-16
    [{ B: 'AQ==' }, { B: '/w==' }, -1],
    [{ S: '1' }, { N: '1' }, undefined],
    [{ SS: ['a'] }, { SS: ['a'] }, undefined],
  ];
  it.each(cmp)('compare %j %j = %s', (a, b, r) => {
    expect(compareScalars(a, b)).toBe(r);
  });

  it('orders canonical and non-canonical numbers like exact decimals', () => {
    const num = fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^[0-9]{1,6}$/),
        fc.stringMatching(/^[0-9]{0,4}$/),
        fc.integer({ min: -3, max: 3 }),
      )
      .map(([neg, i, f, e]) => `${neg ? '-' : ''}${i}${f ? `.${f}` : ''}${e ? `e${e}` : ''}`);
    fc.assert(
      fc.property(num, num, fc.boolean(), (a, b, canon) => {
        const x = canon ? (validateAttributeValue({ N: a }).N as string) : a;
        const y = canon ? (validateAttributeValue({ N: b }).N as string) : b;
        const exact = compareDecimal(parseDecimalLoose(a) as Decimal, parseDecimalLoose(b) as Decimal);
        expect(compareScalars({ N: x }, { N: y })).toBe(exact);
      }),
    );
  });
});

describe('sizes', () => {
  const numbers: [string, number][] = [
    ['0', 1],
    ['1', 2],
    ['12', 2],
    ['123', 3],
    ['1.2', 3],
    ['-1', 3],
    ['100', 2],
    ['0.01', 2],
    ['12345678901234567890123456789012345678', 20],
  ];
  it.each(numbers)('number %s takes %i bytes', (n, size) => {
    expect(numberSize(n)).toBe(size);
  });

  it('follows the item size rules', () => {
    expect(attributeValueSize({ S: 'héllo' })).toBe(6);
    expect(attributeValueSize({ B: 'AAEC' })).toBe(3);
    expect(attributeValueSize({ BOOL: true })).toBe(1);
    expect(attributeValueSize({ NULL: true })).toBe(1);
    expect(attributeValueSize({ SS: ['ab', 'c'] })).toBe(3);
    expect(attributeValueSize({ L: [{ S: 'ab' }, { N: '1' }] })).toBe(3 + 1 + 2 + 1 + 2);
    expect(attributeValueSize({ M: { ab: { S: 'x' } } })).toBe(3 + 1 + 2 + 1);
    expect(itemSize({ id: { S: 'abc' }, n: { N: '12' } })).toBe(2 + 3 + 1 + 2);
  });
});
