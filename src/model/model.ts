import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compact form of a botocore service model that scripts/gen-models.ts writes. */
export interface MemberRef {
  shape: string;
  location?: 'header' | 'headers' | 'querystring' | 'uri' | 'statusCode';
  locationName?: string;
  flattened?: boolean;
  xmlNamespace?: { uri: string; prefix?: string };
  xmlAttribute?: boolean;
  idempotencyToken?: boolean;
  jsonvalue?: boolean;
  timestampFormat?: string;
}
export interface Shape {
  type:
    | 'structure'
    | 'list'
    | 'map'
    | 'string'
    | 'integer'
    | 'long'
    | 'boolean'
    | 'timestamp'
    | 'blob'
    | 'double'
    | 'float';
  required?: string[];
  min?: number;
  max?: number;
  enum?: string[];
  pattern?: string;
  flattened?: boolean;
  locationName?: string;
  payload?: string;
  timestampFormat?: string;
  union?: boolean;
  exception?: boolean;
  error?: { code?: string; httpStatusCode?: number; senderFault?: boolean };
  members?: Record<string, MemberRef>;
  member?: MemberRef;
  key?: MemberRef;
  value?: MemberRef;
}
export interface Operation {
  http: { method: string; requestUri: string; responseCode?: number };
  input?: { shape: string; locationName?: string };
  output?: { shape: string; resultWrapper?: string };
  errors: string[];
}
export interface ServiceModel {
  metadata: {
    apiVersion: string;
    endpointPrefix: string;
    jsonVersion?: string;
    protocol: string;
    protocols?: string[];
    targetPrefix?: string;
    signingName?: string;
    serviceId: string;
    xmlNamespace?: string;
  };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

const here = dirname(fileURLToPath(import.meta.url));
const cache = new Map<string, ServiceModel>();

/** Load a generated model lazily (first use), so startup stays fast. */
export function loadModel(service: string): ServiceModel {
  let m = cache.get(service);
  if (!m) {
    m = JSON.parse(readFileSync(join(here, 'generated', `${service}.json`), 'utf8')) as ServiceModel;
    cache.set(service, m);
  }
  return m;
}
