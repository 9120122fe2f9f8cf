import type { RequestContext } from '../../../core/context.ts';
import { AwsError, validation } from '../../../core/errors.ts';
import type { KvStore } from '../../../storage/types.ts';
import type { KeyDef, KeySchemaElement, Projection, ScalarKeyType } from '../types.ts';

export interface IndexMeta {
  name: string;
  kind: 'GSI' | 'LSI';
  keySchema: KeySchemaElement[];
  key: KeyDef;
  projection: Projection;
  provisioned?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  onDemand?: { MaxReadRequestUnits?: number; MaxWriteRequestUnits?: number };
  /** Set while UpdateTable's backfill is reported as CREATING (it completes synchronously). */
  createdAt?: number;
}

/** A table as stored: DescribeTable is derived from it. */
export interface TableMeta {
  id: string;
  name: string;
  accountId: string;
  region: string;
  arn: string;
  createdAt: number;
  attributeDefinitions: { AttributeName: string; AttributeType: ScalarKeyType }[];
  keySchema: KeySchemaElement[];
  key: KeyDef;
  billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
  provisioned: {
    ReadCapacityUnits: number;
    WriteCapacityUnits: number;
    NumberOfDecreasesToday: number;
    LastIncreaseDateTime?: number;
    LastDecreaseDateTime?: number;
  };
  lastUpdateToPayPerRequest?: number;
  onDemand?: { MaxReadRequestUnits?: number; MaxWriteRequestUnits?: number };
  indexes: IndexMeta[];
  stream?: { enabled: boolean; viewType?: string; arn?: string; label?: string };
  sse?: { SSEType: 'KMS' | 'AES256'; KMSMasterKeyArn?: string };
  tableClass?: string;
  deletionProtection: boolean;
  ttl?: { attributeName: string; enabled: boolean };
  tags: Record<string, string>;
}

const NS = 'ddb:tables';
const keyOf = (accountId: string, region: string, name: string) =>
  Buffer.from(`${accountId}\u0000${region}\u0000${name}`);

/** Table metadata, scoped by account and region; cached in memory (the database stays the truth). */
export class Catalog {
  private cache = new Map<string, TableMeta>();
  constructor(private kv: KvStore) {}

  get(accountId: string, region: string, name: string): TableMeta | undefined {
    const k = `${accountId}\u0000${region}\u0000${name}`;
    let t = this.cache.get(k);
    if (!t) {
      const raw = this.kv.get(NS, keyOf(accountId, region, name));
      if (!raw) return undefined;
      t = JSON.parse(raw) as TableMeta;
      this.cache.set(k, t);
    }
    return t;
  }

  put(t: TableMeta): void {
    this.kv.put(NS, keyOf(t.accountId, t.region, t.name), JSON.stringify(t));
    this.cache.set(`${t.accountId}\u0000${t.region}\u0000${t.name}`, t);
  }

  delete(t: TableMeta): void {
    this.kv.delete(NS, keyOf(t.accountId, t.region, t.name));
    this.cache.delete(`${t.accountId}\u0000${t.region}\u0000${t.name}`);
  }

  /** Names in the scope, in order, starting after `exclusiveStart`. */
  names(accountId: string, region: string, exclusiveStart?: string, limit = 100): string[] {
    const prefix = `${accountId}\u0000${region}\u0000`;
    const out: string[] = [];
    const gt = exclusiveStart !== undefined ? Buffer.from(prefix + exclusiveStart) : undefined;
    for (const [k] of this.kv.range(
      NS,
      gt
        ? { gt, lt: Buffer.from(`${accountId}\u0000${region}\u0001`) }
        : { gte: Buffer.from(prefix), lt: Buffer.from(`${accountId}\u0000${region}\u0001`) },
    )) {
      out.push(k.toString().slice(prefix.length));
      if (out.length >= limit) break;
    }
    return out;
  }

  all(): TableMeta[] {
    return [...this.kv.range(NS)].map(([, v]) => JSON.parse(v) as TableMeta);
  }

  /** Forget cached entries (after a storage reset). */
  clear(): void {
    this.cache.clear();
  }

  /**
   * The table a request names (by name or ARN), or AWS's ResourceNotFoundException. An ARN's account
   * and region win over the caller's.
   */
  require(ctx: RequestContext, nameOrArn: string): TableMeta {
    const { accountId, region, name } = resolveTableName(ctx, nameOrArn);
    const t = this.get(accountId, region, name);
    if (!t) {
      throw new AwsError('ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`, 400);
    }
    return t;
  }
}

export function resolveTableName(
  ctx: RequestContext,
  nameOrArn: string,
): { accountId: string; region: string; name: string } {
  if (nameOrArn.startsWith('arn:')) {
    const m = /^arn:aws[\w-]*:dynamodb:([\w-]+):(\d{12}):table\/([a-zA-Z0-9_.-]{3,255})$/.exec(nameOrArn);
    if (!m) throw validation(`Invalid TableArn: Invalid ResourceArn provided as input ${nameOrArn}`);
    return { region: m[1], accountId: m[2], name: m[3] };
  }
  checkTableName(nameOrArn, 'tableName');
  return { accountId: ctx.accountId, region: ctx.region, name: nameOrArn };
}

export function checkTableName(name: string, field: string): void {
  const errs: string[] = [];
  if (name.length < 3)
    errs.push(
      `Value '${name}' at '${field}' failed to satisfy constraint: Member must have length greater than or equal to 3`,
    );
  if (name.length > 255)
    errs.push(
      `Value '${name}' at '${field}' failed to satisfy constraint: Member must have length less than or equal to 255`,
    );
  if (!/^[a-zA-Z0-9_.-]+$/.test(name))
    errs.push(
      `Value '${name}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`,
    );
  if (errs.length)
    throw validation(`${errs.length} validation error${errs.length > 1 ? 's' : ''} detected: ${errs.join('; ')}`);
}

/** The KeyDef of a key schema, using the attribute definitions for types. */
export function keyDefOf(
  schema: KeySchemaElement[],
  defs: { AttributeName: string; AttributeType: ScalarKeyType }[],
): KeyDef {
  const typeOf = (n: string) => defs.find((d) => d.AttributeName === n)!.AttributeType;
  const hash = schema.find((k) => k.KeyType === 'HASH')!.AttributeName;
  const range = schema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  return { hash, hashType: typeOf(hash), ...(range ? { range, rangeType: typeOf(range) } : {}) };
}

export const itemsNs = (t: TableMeta) => `ddb:t:${t.id}`;
export const indexNs = (t: TableMeta, indexName: string) => `ddb:i:${t.id}:${indexName}`;
