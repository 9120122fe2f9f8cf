/**
 * Sequence numbers as AWS shows them: decimal strings that only grow. Inside Eddy a position is a
 * bigint that fits SQLite's 64-bit INTEGER; on the wire it is offset into a fixed-width decimal so
 * that it looks like AWS's (DynamoDB Streams: 21 digits, e.g. "100000000000000000042") and string
 * order equals numeric order.
 */
export interface SequenceFormat {
  /** Total digits on the wire (DynamoDB Streams 21; Kinesis 56). */
  digits: number;
}

export const DYNAMODB_SEQUENCE: SequenceFormat = { digits: 21 };
export const KINESIS_SEQUENCE: SequenceFormat = { digits: 56 };

const bases = new Map<number, bigint>();
function base(digits: number): bigint {
  let b = bases.get(digits);
  if (b === undefined) {
    b = 10n ** BigInt(digits - 1);
    bases.set(digits, b);
  }
  return b;
}

/** Internal position → the wire string. */
export function formatSequence(seq: bigint, f: SequenceFormat = DYNAMODB_SEQUENCE): string {
  return (base(f.digits) + seq).toString();
}

/** The wire string → internal position, or undefined when it is not one of ours. */
export function parseSequence(s: string, f: SequenceFormat = DYNAMODB_SEQUENCE): bigint | undefined {
  if (typeof s !== 'string' || s.length !== f.digits || !/^[1-9][0-9]*$/.test(s)) return undefined;
  const v = BigInt(s) - base(f.digits);
  return v >= 0n && v < 2n ** 62n ? v : undefined;
}
