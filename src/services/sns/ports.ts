/**
 * The delivery port SNS writes to (implemented by integrations/delivery.ts). Defined beside its
 * consumer because services may not import integrations; EventBridge, DLQs, on-failure destinations
 * and S3 notifications use the same shape. (Candidate for core/ports.ts.)
 */
export interface DeliveryMessage {
  /** The payload: SQS body, HTTP body, Lambda event JSON, or mail text. */
  body: string;
  /** SQS message attributes (raw delivery, EventBridge input transformers...). */
  messageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  /** FIFO targets. */
  groupId?: string;
  dedupId?: string;
  /** HTTP targets: request headers. */
  headers?: Record<string, string>;
  /** Mail targets. */
  subject?: string;
  /** Where the message goes when every attempt failed (an SQS queue ARN); else it is dropped with an error log. */
  deadLetterTarget?: string;
  /** Delays before each retry, ms, overriding the target kind's default (SNS DeliveryPolicy for HTTP). */
  retryDelaysMs?: number[];
  /** Free-form facts for logs and inspection (topic, subscription...). */
  origin?: Record<string, string>;
}

export interface DeliveryPort {
  /**
   * Deliver a message to a target: `arn:aws:sqs:...`, `arn:aws:lambda:...`, `http(s)://...`,
   * `mailto:<address>`. Call inside the caller's `storage.tx`: the message is written to the
   * transactional outbox with the caller's changes and delivered after commit (at least once).
   */
  deliver(target: string, message: DeliveryMessage): void;
}
