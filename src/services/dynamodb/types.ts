/** DynamoDB's attribute value as it travels on the wire (binary as base64 strings). */
export interface AttributeValue {
  S?: string;
  N?: string;
  B?: string;
  SS?: string[];
  NS?: string[];
  BS?: string[];
  M?: Record<string, AttributeValue>;
  L?: AttributeValue[];
  NULL?: boolean;
  BOOL?: boolean;
}
export type Item = Record<string, AttributeValue>;
export type ScalarKeyType = 'S' | 'N' | 'B';

export interface KeySchemaElement {
  AttributeName: string;
  KeyType: 'HASH' | 'RANGE';
}

export interface Projection {
  ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  NonKeyAttributes?: string[];
}

/** A table's key: the hash attribute and optional range attribute with their scalar types. */
export interface KeyDef {
  hash: string;
  hashType: ScalarKeyType;
  range?: string;
  rangeType?: ScalarKeyType;
}
