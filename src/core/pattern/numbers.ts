/**
 * Numbers as the pattern engine compares them. event-ruler turns a number into a fixed-point integer
 * (6 decimal places, -5e9..5e9 inclusive) so that comparisons are exact; SNS documents a narrower
 * range with 5 decimal places. Event numbers outside the range never satisfy a numeric operator.
 */
import type { Dialect } from './types.ts';

export interface NumericModel {
  /** Largest magnitude a compared number may have. */
  readonly bound: number;
  /** 10^decimals. */
  readonly scale: number;
}

const EVENTBRIDGE: NumericModel = { bound: 5e9, scale: 1e6 };
const SNS: NumericModel = { bound: 1e9, scale: 1e5 };

export const numericModel = (d: Dialect): NumericModel =>
  d === 'sns-attributes' || d === 'sns-body' ? SNS : EVENTBRIDGE;

/** Fixed-point form, or NaN when the number is out of the model's range. */
export function fixed(m: NumericModel, x: number): number {
  if (!(x >= -m.bound && x <= m.bound)) return Number.NaN;
  return Math.round(x * m.scale);
}

/** Message of event-ruler's ComparableNumber range error (Java prints 5e9 as `5.0E9`). */
export const RANGE_ERROR = 'Value must be between -5.0E9 and 5.0E9, inclusive';

/** Validates a pattern operand against event-ruler's limits; returns an error message or undefined. */
export function checkOperand(x: number): string | undefined {
  if (!(x >= -5e9 && x <= 5e9)) return RANGE_ERROR;
  return undefined;
}
