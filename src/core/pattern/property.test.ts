/**
 * Bounded property tests:
 * - a pattern built from an event's own leaf values matches that event (every dialect);
 * - compiling arbitrary JSON (or arbitrary text) never throws anything but PatternError;
 * - Jackson-style tokenizing agrees with JSON.parse on which inputs are valid objects.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern, type Dialect, matches, PatternError } from './index.ts';

const DIALECTS: Dialect[] = ['eventbridge', 'sns-body', 'lambda'];
const key = fc.stringMatching(/^[a-z][a-z0-9_-]{0,6}$/).filter((k) => k !== '$or');
const scalar = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).map((x) => Math.round(x * 100) / 100),
  fc.boolean(),
  fc.constant(null),
);
const event = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', maxDepth: 3 }, scalar, tie('obj'), fc.array(scalar, { maxLength: 3 })),
  obj: fc.dictionary(key, tie('node'), { minKeys: 1, maxKeys: 4 }),
})).obj as fc.Arbitrary<Record<string, unknown>>;

/** Builds a pattern of the same shape as `ev`, using each leaf value (or one array element) as the match value. */
function patternFrom(ev: Record<string, unknown>, pick: number): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ev)) {
    if (Array.isArray(v)) {
      if (v.length === 0) out[k] = [{ exists: false }];
      else out[k] = [v[pick % v.length]];
    } else if (v !== null && typeof v === 'object') {
      const sub = patternFrom(v as Record<string, unknown>, pick);
      if (sub) out[k] = sub;
    } else out[k] = [v];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

describe('properties', () => {
  it('a pattern made of an event’s own values matches it', () => {
    fc.assert(
      fc.property(event, fc.nat(10), fc.constantFrom(...DIALECTS), (ev, pick, dialect) => {
        const pattern = patternFrom(ev, pick);
        fc.pre(pattern !== undefined);
        let p: ReturnType<typeof compilePattern>;
        try {
          p = compilePattern(pattern as object, dialect);
        } catch (e) {
          // SNS limits (5 keys, 150 combinations) may reject big generated policies.
          expect(e).toBeInstanceOf(PatternError);
          return;
        }
        expect(matches(p, ev)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('an exists:false pattern on an absent key matches and its negation does not', () => {
    fc.assert(
      fc.property(event, (ev) => {
        const absentKey = 'zz_absent';
        expect(matches(compilePattern({ [absentKey]: [{ exists: false }] }, 'eventbridge'), ev)).toBe(true);
        expect(matches(compilePattern({ [absentKey]: [{ exists: true }] }, 'eventbridge'), ev)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('compiling random JSON throws only PatternError', () => {
    fc.assert(
      fc.property(
        fc.json({ depthSize: 'small', maxDepth: 4 }),
        fc.constantFrom<Dialect>('eventbridge', 'sns-attributes', 'sns-body', 'lambda'),
        (text, dialect) => {
          try {
            compilePattern(text, dialect);
          } catch (e) {
            expect(e).toBeInstanceOf(PatternError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('compiling random pattern-like objects throws only PatternError', () => {
    const op = fc.oneof(
      fc.record({ prefix: fc.jsonValue() }),
      fc.record({ suffix: fc.jsonValue() }),
      fc.record({ 'anything-but': fc.jsonValue() }),
      fc.record({
        numeric: fc.array(fc.oneof(fc.constantFrom('<', '<=', '=', '>', '>='), fc.integer()), { maxLength: 5 }),
      }),
      fc.record({ exists: fc.jsonValue() }),
      fc.record({ cidr: fc.oneof(fc.string(), fc.constantFrom('10.0.0.0/8', '::/0', '1.2.3.4/40')) }),
      fc.record({ wildcard: fc.string({ maxLength: 6 }) }),
      fc.record({ 'equals-ignore-case': fc.jsonValue() }),
    );
    const pat = fc.dictionary(key, fc.array(fc.oneof(scalar, op), { maxLength: 3 }), { minKeys: 0, maxKeys: 3 });
    fc.assert(
      fc.property(
        pat,
        fc.constantFrom<Dialect>('eventbridge', 'sns-attributes', 'sns-body', 'lambda'),
        (p, dialect) => {
          try {
            const c = compilePattern(p, dialect);
            matches(c, { a: 1 });
          } catch (e) {
            expect(e).toBeInstanceOf(PatternError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('arbitrary text throws only PatternError, and JSON-valid objects with array leaves are accepted', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        try {
          compilePattern(text, 'eventbridge');
        } catch (e) {
          expect(e).toBeInstanceOf(PatternError);
        }
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.array(scalar, { minLength: 1, maxLength: 3 }), { minKeys: 1, maxKeys: 4 }),
        (p) => {
          const text = JSON.stringify(p, null, 2);
          expect(() => compilePattern(text, 'eventbridge')).not.toThrow();
        },
      ),
      { numRuns: 200 },
    );
  });
});
