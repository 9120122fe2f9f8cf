/**
 * Pattern errors. AWS compiles EventBridge rules, SNS filter policies and Lambda FilterCriteria with
 * the same engine (aws/event-ruler on a Jackson streaming parser), so the *reason* texts are shared;
 * each service wraps them differently. `PatternError.message` is the reason exactly as the engine
 * reports it, including Jackson's `\n at [Source: (String)"..."; line: L, column: C]` suffix when the
 * engine attaches one (syntax errors do; limit checks and CIDR errors do not).
 */
import type { Dialect } from './types.ts';

export class PatternError extends Error {
  /** The reason without any location suffix. */
  readonly reason: string;
  /** The location suffix(es), e.g. `\n at [Source: (String)"{...}"; line: 1, column: 11]`, or ''. */
  readonly location: string;
  /**
   * True for SNS errors that AWS reports without the `FilterPolicy: ` qualifier (e.g. the
   * MessageAttributes-scope nesting error).
   */
  readonly bare: boolean;

  constructor(reason: string, location = '', bare = false) {
    super(reason + location);
    this.name = 'PatternError';
    this.reason = reason;
    this.location = location;
    this.bare = bare;
  }
}

export const isPatternError = (e: unknown): e is PatternError => e instanceof PatternError;

export interface FormatOptions {
  /**
   * SNS only: `Subscribe` reports filter-policy errors as `Invalid parameter: Attributes Reason: FilterPolicy: ...`,
   * `SetSubscriptionAttributes` (the default) as `Invalid parameter: FilterPolicy: ...`.
   */
  operation?: 'Subscribe' | 'SetSubscriptionAttributes';
}

/**
 * The AWS error code and message a service returns for an invalid pattern in the given dialect.
 * - EventBridge (PutRule, TestEventPattern, CreateArchive...): `InvalidEventPatternException`,
 *   `Event pattern is not valid. Reason: <reason + location>`.
 * - SNS (Subscribe / SetSubscriptionAttributes FilterPolicy): `InvalidParameter`,
 *   `Invalid parameter: [Attributes Reason: ]FilterPolicy: <reason + location>`.
 * - Lambda (Create/UpdateEventSourceMapping FilterCriteria): `InvalidParameterValueException`,
 *   `Invalid filter pattern definition.` (Lambda does not echo the engine's reason).
 */
export function formatPatternError(
  dialect: Dialect,
  err: PatternError,
  opts: FormatOptions = {},
): { code: string; message: string } {
  switch (dialect) {
    case 'eventbridge':
      return { code: 'InvalidEventPatternException', message: `Event pattern is not valid. Reason: ${err.message}` };
    case 'sns-attributes':
    case 'sns-body': {
      const scope = opts.operation === 'Subscribe' ? 'Attributes Reason: ' : '';
      const qualifier = err.bare ? '' : 'FilterPolicy: ';
      return { code: 'InvalidParameter', message: `Invalid parameter: ${scope}${qualifier}${err.message}` };
    }
    case 'lambda':
      return { code: 'InvalidParameterValueException', message: 'Invalid filter pattern definition.' };
  }
}
