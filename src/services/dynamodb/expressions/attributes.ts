import { type AwsError, validation } from '../../../core/errors.ts';
import type { AttributeValue } from '../types.ts';
import { validateAttributeValue } from '../values/attribute.ts';

const NAME_KEY = /^#[0-9a-zA-Z_]+$/;
const VALUE_KEY = /^:[0-9a-zA-Z_]+$/;

/**
 * ExpressionAttributeNames / ExpressionAttributeValues of one request, shared by all of its
 * expressions. Validates both maps as DynamoDB does and tracks which placeholders were used, so
 * `assertAllUsed()` can refuse unused ones after every expression of the request was parsed.
 */
export class ExpressionAttributes {
  readonly names: Record<string, string> | undefined;
  readonly values: Record<string, AttributeValue> | undefined;
  private readonly unusedNames = new Set<string>();
  private readonly unusedValues = new Set<string>();

  constructor(names?: Record<string, string>, values?: Record<string, AttributeValue>) {
    if (names != null) {
      const keys = Object.keys(names);
      if (!keys.length) throw validation('ExpressionAttributeNames must not be empty');
      for (const k of keys) {
        if (!NAME_KEY.test(k))
          throw validation(`ExpressionAttributeNames contains invalid key: Syntax error; key: "${k}"`);
        this.unusedNames.add(k);
      }
      this.names = names;
    }
    if (values != null) {
      const keys = Object.keys(values);
      if (!keys.length) throw validation('ExpressionAttributeValues must not be empty');
      for (const k of keys) {
        if (!VALUE_KEY.test(k))
          throw validation(`ExpressionAttributeValues contains invalid key: Syntax error; key: "${k}"`);
        this.unusedValues.add(k);
      }
      const canonical: Record<string, AttributeValue> = {};
      for (const k of keys) {
        try {
          canonical[k] = validateAttributeValue(values[k]);
        } catch (e) {
          const msg = (e as AwsError).message;
          throw validation(`ExpressionAttributeValues contains invalid value: ${msg} for key ${k}`);
        }
      }
      this.values = canonical;
    }
  }

  /** The attribute name behind `#ref`, marking it used; undefined when not defined. */
  name(ref: string): string | undefined {
    const n = this.names?.[ref];
    if (n !== undefined) this.unusedNames.delete(ref);
    return n;
  }

  /** The value behind `:ref`, marking it used; undefined when not defined. */
  value(ref: string): AttributeValue | undefined {
    const v = this.values?.[ref];
    if (v !== undefined) this.unusedValues.delete(ref);
    return v;
  }

  /** Refuse placeholders no expression of the request used (call after parsing all of them). */
  assertAllUsed(): void {
    if (this.unusedNames.size)
      throw validation(
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${[...this.unusedNames].join(', ')}}`,
      );
    if (this.unusedValues.size)
      throw validation(
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${[...this.unusedValues].join(', ')}}`,
      );
  }
}
