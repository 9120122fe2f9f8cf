import type { Clock } from '../../../core/clock.ts';
import { AwsError } from '../../../core/errors.ts';
import { ResourceFailure } from '../errors.ts';

/** What a resource provider can do and see while it works on one resource. */
export interface ResourceContext {
  logicalId: string;
  type: string;
  stackName: string;
  stackId: string;
  accountId: string;
  region: string;
  endpoint: string;
  clock: Clock;
  /** Call another service's operation in process (model-validated). */
  call(service: string, operation: string, input: Record<string, unknown>): Promise<any>;
  has(service: string, operation?: string): boolean;
  /** A generated physical name: `<stack>-<logicalId>-<RANDOM>`, truncated to fit. */
  physicalName(opts?: { maxLength?: number; lower?: boolean; suffix?: string }): string;
  /** Wait on the clock (a service settling: an event source mapping leaving Creating). */
  sleep(ms: number): Promise<void>;
  /** Custom resources: invoke a handler and wait for its response at the ResponseURL. */
  customResource(request: CustomResourceRequest): Promise<CustomResourceResponse>;
}

export interface CustomResourceRequest {
  RequestType: 'Create' | 'Update' | 'Delete';
  ServiceToken: string;
  ResourceType: string;
  PhysicalResourceId?: string;
  ResourceProperties: Record<string, unknown>;
  OldResourceProperties?: Record<string, unknown>;
}

export interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason?: string;
  PhysicalResourceId?: string;
  Data?: Record<string, unknown>;
  NoEcho?: boolean;
}

/** A resource as it exists: what Ref and Fn::GetAtt return. */
export interface Made {
  physicalId: string;
  /** Ref, when it differs from the physical id. */
  ref?: string;
  attrs?: Record<string, unknown>;
}

export interface Existing extends Made {
  props: Record<string, any>;
}

export interface ResourceProvider {
  /**
   * Services (or `service:Operation`) the type needs. When one is not served, the type is refused by
   * name: `Resource type AWS::X::Y is not supported by Eddy`.
   */
  needs: string[];
  create(props: Record<string, any>, ctx: ResourceContext): Promise<Made>;
  /** Update in place; absent means every change replaces the resource. */
  update?(props: Record<string, any>, prev: Existing, ctx: ResourceContext): Promise<Made>;
  delete(prev: Existing, ctx: ResourceContext): Promise<void>;
  /** Properties whose change replaces the resource (AWS's createOnlyProperties). */
  createOnly?: string[];
  /** The property that names the resource, if any (custom-named resources cannot be replaced). */
  nameProperty?: string;
  /** Properties that Eddy refuses by name when present. */
  unsupported?: string[];
}

/** Fail the resource with a message (becomes the *_FAILED event reason). */
export const fail = (message: string): never => {
  throw new ResourceFailure(message);
};

/** Whether an error from a service means "it is already gone". */
export function isNotFound(e: unknown): boolean {
  return (
    e instanceof AwsError &&
    /NotFound|NoSuch|QueueDoesNotExist|NonExistent|ResourceNotFound/.test(e.code + (e.type ?? ''))
  );
}

/** Tags as CloudFormation gives them ([{Key, Value}]) to a map. */
export function tagMap(tags: unknown): Record<string, string> | undefined {
  if (!Array.isArray(tags) || !tags.length) return undefined;
  const out: Record<string, string> = {};
  for (const t of tags as { Key: string; Value: string }[]) out[t.Key] = String(t.Value);
  return out;
}

/** Policy documents may be objects in templates; APIs take JSON strings. */
export const jsonString = (v: unknown): string | undefined =>
  v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v);

export const deepEqual = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Names of top-level properties that differ between two property sets. */
export function changed(a: Record<string, unknown>, b: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (!deepEqual(a[k], b[k])) out.add(k);
  return out;
}
