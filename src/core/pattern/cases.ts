/**
 * Shared shape and runner for the data-driven pattern tables (*.test.ts). Each case is a pattern
 * with either an event and the expected verdict, or the exact AWS error message it must produce.
 */
import { expect, it } from 'vitest';
import { compilePattern } from './compile.ts';
import { type FormatOptions, formatPatternError, PatternError } from './errors.ts';
import { matchesSnsAttributes, type SnsMessageAttribute } from './index.ts';
import { matches } from './match.ts';
import type { Dialect } from './types.ts';

export interface Case {
  /** What the case shows; cite the doc or the AWS-recorded source. */
  name: string;
  pattern: string | object;
  /** The event (for sns-attributes: the MessageAttributes map). */
  event?: unknown;
  match?: boolean;
  /** Exact AWS error message (code checked separately per dialect). */
  error?: string;
}

export function runCases(dialect: Dialect, cases: Case[], opts: FormatOptions = {}): void {
  const code = formatPatternError(dialect, new PatternError('x'), opts).code;
  for (const c of cases) {
    it(c.name, () => {
      if (c.error !== undefined) {
        let caught: unknown;
        try {
          compilePattern(c.pattern, dialect);
        } catch (e) {
          caught = e;
        }
        expect(caught, 'expected the pattern to be rejected').toBeInstanceOf(PatternError);
        const f = formatPatternError(dialect, caught as PatternError, opts);
        expect(f.code).toBe(code);
        expect(f.message).toBe(c.error);
        return;
      }
      const p = compilePattern(c.pattern, dialect);
      const got =
        dialect === 'sns-attributes'
          ? matchesSnsAttributes(p, c.event as Record<string, SnsMessageAttribute>)
          : matches(p, c.event);
      expect(got).toBe(c.match);
    });
  }
}

/** Builds Jackson's location suffix for a one-line pattern. */
export const at = (src: string, column: number) => `\n at [Source: (String)"${src}"; line: 1, column: ${column}]`;
