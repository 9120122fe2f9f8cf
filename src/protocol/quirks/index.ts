import type { ServiceModel } from '../../model/model.ts';
import { sqsQueryModel } from './sqs-query.ts';

/**
 * Protocol quirks: where a service's wire format differs from what its model says. `queryView`
 * gives the model the query codec should read and write for a service (SQS's JSON model carries
 * none of the query-protocol member names the CLI v1 and older SDKs use).
 */
const views = new WeakMap<ServiceModel, ServiceModel>();
const QUERY_VIEWS: Record<string, (m: ServiceModel) => ServiceModel> = { sqs: sqsQueryModel };

export function queryView(model: ServiceModel): ServiceModel {
  const make = QUERY_VIEWS[model.metadata.endpointPrefix];
  if (!make) return model;
  let v = views.get(model);
  if (!v) views.set(model, (v = make(model)));
  return v;
}
