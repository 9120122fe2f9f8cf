import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AwsError } from '../../../core/errors.ts';
import {
  ExpressionAttributes,
  evaluateCondition,
  parseCondition,
  parseKeyCondition,
  parseProjection,
  parseUpdate,
} from './index.ts';

/**
 * Bounded fuzzing of the expression parsers: whatever text arrives, the answer is either a parse
 * or an AWS ValidationException — never a crash, a hang or another error type.
 */
const TOKENS = [
  'a',
  'b',
  '#n',
  ':v',
  ':w',
  '=',
  '<>',
  '<',
  '<=',
  '>',
  '>=',
  'AND',
  'OR',
  'NOT',
  'BETWEEN',
  'IN',
  '(',
  ')',
  ',',
  '.',
  '[0]',
  '[',
  ']',
  'SET',
  'REMOVE',
  'ADD',
  'DELETE',
  '+',
  '-',
  'size',
  'begins_with',
  'contains',
  'attribute_exists',
  'attribute_type',
  'if_not_exists',
  'list_append',
  'status',
  '  ',
  '"',
  '\u0000',
  'é',
];
const tokenText = fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((t) => t.join(' '));
const anyText = fc.oneof(tokenText, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 60 }));

const attrs = () => new ExpressionAttributes({ '#n': 'name' }, { ':v': { N: '1' }, ':w': { S: 'x' } });
const ITEM = { a: { N: '1' }, b: { S: 'x' }, name: { L: [{ N: '2' }] } };

function onlyValidation(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AwsError);
    expect((e as AwsError).code).toBe('ValidationException');
  }
}

describe('expression parsers under random input', () => {
  it('conditions parse and evaluate, or fail with ValidationException', () => {
    fc.assert(
      fc.property(anyText, (text) =>
        onlyValidation(() => {
          const c = parseCondition(text, attrs(), 'ConditionExpression');
          evaluateCondition(c, ITEM);
        }),
      ),
      { numRuns: 1500 },
    );
  });

  it('updates, projections and key conditions too', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        onlyValidation(() => parseUpdate(text, attrs()));
        onlyValidation(() => parseProjection(text, attrs()));
        onlyValidation(() =>
          parseKeyCondition(text, attrs(), { hash: 'a', hashType: 'N', range: 'b', rangeType: 'S' }),
        );
      }),
      { numRuns: 1500 },
    );
  });
});
