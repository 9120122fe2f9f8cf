import type { Storage } from '../../storage/types.ts';

export interface ResourceState {
  logicalId: string;
  type: string;
  physicalId?: string;
  ref?: string;
  status: string;
  statusReason?: string;
  updatedAt: number;
  /** Resolved properties last applied. */
  props?: Record<string, any>;
  attrs?: Record<string, unknown>;
  description?: string;
  metadata?: unknown;
}

export interface StackParameter {
  ParameterKey: string;
  ParameterValue: string;
  ResolvedValue?: string;
  noEcho?: boolean;
}

export interface StackOutput {
  OutputKey: string;
  OutputValue: string;
  Description?: string;
  ExportName?: string;
}

export interface StackRecord {
  stackId: string;
  stackName: string;
  accountId: string;
  region: string;
  status: string;
  statusReason?: string;
  createdAt: number;
  updatedAt?: number;
  deletedAt?: number;
  templateBody: string;
  description?: string;
  parameters: StackParameter[];
  capabilities: string[];
  tags: { Key: string; Value: string }[];
  disableRollback: boolean;
  onFailure?: string;
  notificationARNs: string[];
  timeoutInMinutes?: number;
  roleARN?: string;
  terminationProtection: boolean;
  outputs: StackOutput[];
  resources: Record<string, ResourceState>;
  changeSetId?: string;
  /** The endpoint the operation was requested through (queue URLs, ResponseURLs). */
  endpoint: string;
  eventSeq: number;
  /** Export names the stack's template imports (Fn::ImportValue). */
  imports?: string[];
}

export interface StackEvent {
  StackId: string;
  EventId: string;
  StackName: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceType: string;
  Timestamp: number;
  ResourceStatus: string;
  ResourceStatusReason?: string;
  ResourceProperties?: string;
  ClientRequestToken?: string;
}

export interface ChangeSetRecord {
  id: string;
  name: string;
  stackId: string;
  stackName: string;
  accountId: string;
  region: string;
  type: 'CREATE' | 'UPDATE';
  status: string;
  statusReason?: string;
  executionStatus: string;
  createdAt: number;
  description?: string;
  templateBody: string;
  parameters: StackParameter[];
  givenParameters: { ParameterKey: string; ParameterValue?: string; UsePreviousValue?: boolean }[];
  capabilities: string[];
  tags?: { Key: string; Value: string }[];
  changes: unknown[];
  notificationARNs: string[];
}

export interface ExportRecord {
  name: string;
  value: string;
  stackId: string;
}

const NS_STACK = 'cfn.stack';
const NS_NAME = 'cfn.name';
const NS_EVENT = 'cfn.event';
const NS_CHANGESET = 'cfn.changeset';
const NS_EXPORT = 'cfn.export';

const k = (...parts: string[]) => Buffer.from(parts.join('\0'));
const prefixRange = (...parts: string[]) => ({ gte: k(...parts, ''), lt: Buffer.from(`${parts.join('\0')}\x01`) });

/** Stacks, their events, change sets and exports on the kv store. */
export class StackStore {
  constructor(private readonly storage: Storage) {}

  tx<T>(fn: () => T): T {
    return this.storage.tx(fn);
  }
  get(stackId: string): StackRecord | undefined {
    const raw = this.storage.kv.get(NS_STACK, k(stackId));
    return raw ? (JSON.parse(raw) as StackRecord) : undefined;
  }
  put(s: StackRecord): void {
    this.storage.kv.put(NS_STACK, k(s.stackId), JSON.stringify(s));
    if (s.deletedAt === undefined) this.storage.kv.put(NS_NAME, k(s.accountId, s.region, s.stackName), s.stackId);
    else if (this.idByName(s.accountId, s.region, s.stackName) === s.stackId)
      this.storage.kv.delete(NS_NAME, k(s.accountId, s.region, s.stackName));
  }
  /** Remove a stack entirely (a REVIEW_IN_PROGRESS stack whose only change set was deleted). */
  remove(s: StackRecord): void {
    this.storage.kv.delete(NS_STACK, k(s.stackId));
    if (this.idByName(s.accountId, s.region, s.stackName) === s.stackId)
      this.storage.kv.delete(NS_NAME, k(s.accountId, s.region, s.stackName));
    for (const [key] of [...this.storage.kv.range(NS_EVENT, prefixRange(s.stackId))])
      this.storage.kv.delete(NS_EVENT, key);
  }
  idByName(accountId: string, region: string, name: string): string | undefined {
    return this.storage.kv.get(NS_NAME, k(accountId, region, name));
  }
  all(accountId: string, region: string): StackRecord[] {
    const out: StackRecord[] = [];
    for (const [, v] of this.storage.kv.range(NS_STACK)) {
      const s = JSON.parse(v) as StackRecord;
      if (s.accountId === accountId && s.region === region) out.push(s);
    }
    return out.sort((a, b) => b.createdAt - a.createdAt);
  }
  /** Stacks left mid-operation by a previous run. */
  everything(): StackRecord[] {
    return [...this.storage.kv.range(NS_STACK)].map(([, v]) => JSON.parse(v) as StackRecord);
  }

  addEvent(e: StackEvent, seq: number): void {
    this.storage.kv.put(NS_EVENT, k(e.StackId, seq.toString().padStart(10, '0')), JSON.stringify(e));
  }
  /** Newest first. */
  events(stackId: string): StackEvent[] {
    return [...this.storage.kv.range(NS_EVENT, { ...prefixRange(stackId), reverse: true })].map(
      ([, v]) => JSON.parse(v) as StackEvent,
    );
  }

  putChangeSet(c: ChangeSetRecord): void {
    this.storage.kv.put(NS_CHANGESET, k(c.stackId, c.name), JSON.stringify(c));
  }
  changeSet(stackId: string, name: string): ChangeSetRecord | undefined {
    const raw = this.storage.kv.get(NS_CHANGESET, k(stackId, name));
    return raw ? (JSON.parse(raw) as ChangeSetRecord) : undefined;
  }
  changeSets(stackId: string): ChangeSetRecord[] {
    return [...this.storage.kv.range(NS_CHANGESET, prefixRange(stackId))].map(
      ([, v]) => JSON.parse(v) as ChangeSetRecord,
    );
  }
  deleteChangeSet(c: ChangeSetRecord): void {
    this.storage.kv.delete(NS_CHANGESET, k(c.stackId, c.name));
  }

  getExport(accountId: string, region: string, name: string): ExportRecord | undefined {
    const raw = this.storage.kv.get(NS_EXPORT, k(accountId, region, name));
    return raw ? (JSON.parse(raw) as ExportRecord) : undefined;
  }
  putExport(accountId: string, region: string, e: ExportRecord): void {
    this.storage.kv.put(NS_EXPORT, k(accountId, region, e.name), JSON.stringify(e));
  }
  deleteExport(accountId: string, region: string, name: string): void {
    this.storage.kv.delete(NS_EXPORT, k(accountId, region, name));
  }
  exports(accountId: string, region: string): ExportRecord[] {
    return [...this.storage.kv.range(NS_EXPORT, prefixRange(accountId, region))].map(
      ([, v]) => JSON.parse(v) as ExportRecord,
    );
  }
}
