/**
 * The one event-pattern matcher (design principle: EventBridge rules, SNS filter policies and Lambda
 * FilterCriteria are dialects of one grammar).
 *
 *   const p = compilePattern(text, 'eventbridge');   // throws PatternError
 *   matches(p, event);                               // boolean
 *
 * Errors: catch PatternError and turn it into the service's error with
 * `formatPatternError(dialect, err)` (code + exact AWS message).
 *
 * What each caller passes to `matches`:
 * - EventBridge: the full event envelope as PutEvents delivers it (`version`, `id`, `detail-type`,
 *   `source`, `account`, `time`, `region`, `resources`, `detail` as a parsed object).
 * - SNS, FilterPolicyScope=MessageAttributes: use `matchesSnsAttributes(p, MessageAttributes)`.
 * - SNS, FilterPolicyScope=MessageBody: use `matchesSnsBody(p, Message)` (a message whose body is not
 *   a JSON object never matches).
 * - Lambda FilterCriteria: the record as the function would receive it, with its data property
 *   decoded so the pattern can reach inside it:
 *     SQS:      `{...record, body: lambdaData(record.body)}` (body parsed when it is JSON);
 *     Kinesis:  `{...record, kinesis: {...record.kinesis, data: lambdaData(base64-decoded data as UTF-8)}}`;
 *     DynamoDB: the stream record unchanged (`dynamodb.NewImage` etc. are already objects).
 *   A record matches when any of the mapping's filters matches. AWS's format rules follow naturally:
 *   a JSON pattern for `body`/`data` never matches a plain-string body, and a plain-string pattern
 *   never matches a JSON body (objects are not leaf values).
 */
import { matches } from './match.ts';
import type { CompiledPattern } from './types.ts';

export { compilePattern } from './compile.ts';
export { type FormatOptions, formatPatternError, isPatternError, PatternError } from './errors.ts';
export { matches } from './match.ts';
export type { CompiledPattern, Dialect } from './types.ts';

/** An SNS message attribute as Publish takes it (`DataType`/`StringValue`) or as SNS delivers it (`Type`/`Value`). */
export interface SnsMessageAttribute {
  Type?: string;
  Value?: unknown;
  DataType?: string;
  StringValue?: string;
  BinaryValue?: unknown;
}

/**
 * The JSON view of message attributes that an attribute-scope filter policy is matched against:
 * `String` (and `String.<custom>`) values are strings; `Number` values are numbers; `String.Array`
 * values are their parsed JSON array, matched element by element; `Binary` attributes are ignored
 * (SNS compares policies only with String, String.Array and Number attributes), so they behave as
 * absent (`{"exists": false}` matches them).
 */
export function snsAttributesToEvent(attrs: Record<string, SnsMessageAttribute> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!attrs) return out;
  for (const name of Object.keys(attrs)) {
    const a = attrs[name];
    if (!a) continue;
    const type = a.Type ?? a.DataType ?? '';
    const raw = a.Value ?? a.StringValue;
    if (type.startsWith('Binary') || raw === undefined) continue;
    if (type === 'String.Array' || type === 'Number.Array') {
      try {
        const parsed = typeof raw === 'string' ? JSON.parse(raw) : raw;
        if (Array.isArray(parsed)) out[name] = parsed;
      } catch {
        // Not a JSON array: SNS rejects such a Publish; nothing to match here.
      }
    } else if (type.startsWith('Number')) {
      const n = typeof raw === 'number' ? raw : Number(raw);
      out[name] = Number.isFinite(n) ? n : String(raw);
    } else {
      out[name] = String(raw);
    }
  }
  return out;
}

/** SNS attribute-based filtering (FilterPolicyScope=MessageAttributes). */
export function matchesSnsAttributes(
  p: CompiledPattern,
  attrs: Record<string, SnsMessageAttribute> | undefined,
): boolean {
  return matches(p, snsAttributesToEvent(attrs));
}

/** SNS payload-based filtering (FilterPolicyScope=MessageBody): the message must be a JSON object. */
export function matchesSnsBody(p: CompiledPattern, message: string): boolean {
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    return false;
  }
  return matches(p, body);
}

/**
 * Lambda's view of an SQS body / Kinesis data string for filtering: the parsed value when the text is
 * a JSON object or array, otherwise the string itself.
 */
export function lambdaData(text: string): unknown {
  const t = text.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
