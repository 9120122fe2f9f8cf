import { invalidParameter, sqsError } from './errors.ts';
import type { AttributeValue } from './md5.ts';

const ALLOWED_CHARS = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** SQS accepts only XML-safe characters in bodies and string attribute values. */
export function checkCharacters(s: string, where: 'body' | string): void {
  const bad = ALLOWED_CHARS.exec(s);
  if (!bad) return;
  const hex = bad[0].codePointAt(0)!.toString(16).toUpperCase();
  const place = where === 'body' ? 'the message body' : `the message attribute ${where}`;
  throw sqsError(
    'InvalidMessageContents',
    `Invalid binary character '#x${hex}' was found in ${place}, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
  );
}

const NAME_RE = /^[A-Za-z0-9_\-.]{1,256}$/;

/**
 * Validate and normalise message attributes (binary values to Buffers, whichever protocol sent
 * them); returns the byte size they count towards the message size limit.
 */
export function normaliseAttributes(
  raw: Record<string, any> | undefined,
  kind: 'user' | 'system',
): { attrs?: Record<string, AttributeValue>; size: number } {
  if (!raw || !Object.keys(raw).length) return { size: 0 };
  const names = Object.keys(raw);
  if (kind === 'user' && names.length > 10) {
    throw invalidParameter(`Number of message attributes [${names.length}] exceeds the allowed maximum [10].`);
  }
  const attrs: Record<string, AttributeValue> = {};
  let size = 0;
  for (const name of names) {
    const v = raw[name] ?? {};
    if (kind === 'system') {
      if (name !== 'AWSTraceHeader') throw invalidParameter(`Message system attribute name '${name}' is invalid.`);
    } else {
      if (!NAME_RE.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
        throw invalidParameter(`Message (user) attribute name '${name}' is invalid.`);
      }
      if (/^(aws\.|amazon\.)/i.test(name)) {
        throw invalidParameter(
          `Message (user) attribute name '${name}' is invalid: the prefixes AWS. and Amazon. are reserved.`,
        );
      }
    }
    const label = kind === 'user' ? 'message (user) attribute' : 'message system attribute';
    const type = v.DataType;
    if (typeof type !== 'string' || !type)
      throw invalidParameter(`The ${label} '${name}' must contain a non-empty message attribute type.`);
    const base = type.split('.')[0];
    if (base !== 'String' && base !== 'Number' && base !== 'Binary') {
      throw invalidParameter(
        `The type of ${label} '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    }
    if (v.StringListValues?.length || v.BinaryListValues?.length) {
      throw sqsError('UnsupportedOperation', `Message attribute list values in ${label} '${name}' are not supported.`);
    }
    const out: AttributeValue = { DataType: type };
    if (base === 'Binary') {
      const b = v.BinaryValue;
      const buf =
        b === undefined
          ? undefined
          : Buffer.isBuffer(b)
            ? b
            : b instanceof Uint8Array
              ? Buffer.from(b)
              : Buffer.from(String(b), 'base64');
      if (!buf?.length || v.StringValue !== undefined) {
        throw invalidParameter(
          `Message (user) attribute '${name}' must contain a non-empty value of message attribute type '${type}'.`.replace(
            'Message (user) attribute',
            cap(label),
          ),
        );
      }
      out.BinaryValue = buf;
      size += buf.length;
    } else {
      const s = v.StringValue;
      if (typeof s !== 'string' || !s.length || v.BinaryValue !== undefined) {
        throw invalidParameter(
          `${cap(label)} '${name}' must contain a non-empty value of message attribute type '${type}'.`,
        );
      }
      if (base === 'Number') {
        const n = Number(s);
        if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(s) || !Number.isFinite(n)) {
          throw invalidParameter(`Can't cast the value of ${label} '${name}' to a number.`);
        }
      }
      checkCharacters(s, name);
      out.StringValue = s;
      size += Buffer.byteLength(s, 'utf8');
    }
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(type, 'utf8');
    attrs[name] = out;
  }
  return { attrs, size };
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const BATCH_ID_RE = /^[A-Za-z0-9_-]{1,80}$/;

/** The checks every *Batch operation makes on its entries before touching any of them. */
export function checkBatch(entries: { Id: string }[] | undefined, entryName: string): void {
  if (!entries || entries.length === 0) {
    throw sqsError('EmptyBatchRequest', `There should be at least one ${entryName} in the request.`);
  }
  if (entries.length > 10) {
    throw sqsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
    );
  }
  const seen = new Set<string>();
  for (const e of entries) {
    if (typeof e.Id !== 'string' || !BATCH_ID_RE.test(e.Id)) {
      throw sqsError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      );
    }
    if (seen.has(e.Id)) throw sqsError('BatchEntryIdsNotDistinct', `Id ${e.Id} repeated.`);
    seen.add(e.Id);
  }
}
