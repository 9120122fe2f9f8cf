import type { RequestContext } from '../core/context.ts';
import type { RawRequest, RawResponse } from '../protocol/types.ts';

export type OperationHandler = (input: any, ctx: RequestContext) => unknown;

/** A service as the gateway dispatches to it: typed operations by name, no HTTP. */
export interface ServiceImpl {
  /** Model name under src/model/generated. */
  model: string;
  operations: Record<string, OperationHandler>;
  /** Skip model validation for these operations (they validate themselves, as AWS does, in a different order). */
  selfValidating?: Set<string>;
  /**
   * Plain HTTP routes outside the AWS API (the Lambda Runtime API, `/_eddy/...` pages). Tried before
   * service detection; return undefined to pass.
   */
  routes?: (req: RawRequest) => Promise<RawResponse | undefined> | RawResponse | undefined;
}
