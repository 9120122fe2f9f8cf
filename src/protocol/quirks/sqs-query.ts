import type { MemberRef, ServiceModel } from '../../model/model.ts';

/**
 * SQS over the query protocol (AWS CLI v1 before botocore moved SQS to JSON, boto2, older SDKs)
 * names members differently from the JSON model: flattened `Attribute.1.Name`, `AttributeName.1`,
 * `MessageAttribute.1.Value.StringValue`, `SendMessageBatchRequestEntry.1.Id`, and answers with
 * `<Message>`, `<Attribute><Name/><Value/></Attribute>`, `<QueueUrl>` elements. These are the
 * locationNames of SQS's former query model, applied to a copy of the JSON model.
 */
export const MEMBER_NAMES: Record<string, Record<string, string>> = {
  CreateQueueRequest: { Attributes: 'Attribute', tags: 'Tag' },
  SetQueueAttributesRequest: { Attributes: 'Attribute' },
  GetQueueAttributesRequest: { AttributeNames: 'AttributeName' },
  GetQueueAttributesResult: { Attributes: 'Attribute' },
  ReceiveMessageRequest: {
    AttributeNames: 'AttributeName',
    MessageSystemAttributeNames: 'MessageSystemAttributeName',
    MessageAttributeNames: 'MessageAttributeName',
  },
  ReceiveMessageResult: { Messages: 'Message' },
  Message: { Attributes: 'Attribute', MessageAttributes: 'MessageAttribute' },
  SendMessageRequest: { MessageAttributes: 'MessageAttribute', MessageSystemAttributes: 'MessageSystemAttribute' },
  SendMessageBatchRequest: { Entries: 'SendMessageBatchRequestEntry' },
  SendMessageBatchRequestEntry: {
    MessageAttributes: 'MessageAttribute',
    MessageSystemAttributes: 'MessageSystemAttribute',
  },
  SendMessageBatchResult: { Successful: 'SendMessageBatchResultEntry', Failed: 'BatchResultErrorEntry' },
  DeleteMessageBatchRequest: { Entries: 'DeleteMessageBatchRequestEntry' },
  DeleteMessageBatchResult: { Successful: 'DeleteMessageBatchResultEntry', Failed: 'BatchResultErrorEntry' },
  ChangeMessageVisibilityBatchRequest: { Entries: 'ChangeMessageVisibilityBatchRequestEntry' },
  ChangeMessageVisibilityBatchResult: {
    Successful: 'ChangeMessageVisibilityBatchResultEntry',
    Failed: 'BatchResultErrorEntry',
  },
  ListQueuesResult: { QueueUrls: 'QueueUrl' },
  ListDeadLetterSourceQueuesResult: { queueUrls: 'QueueUrl' },
  ListQueueTagsResult: { Tags: 'Tag' },
  TagQueueRequest: { Tags: 'Tag' },
  UntagQueueRequest: { TagKeys: 'TagKey' },
  AddPermissionRequest: { AWSAccountIds: 'AWSAccountId', Actions: 'ActionName' },
  MessageAttributeValue: { StringListValues: 'StringListValue', BinaryListValues: 'BinaryListValue' },
  MessageSystemAttributeValue: { StringListValues: 'StringListValue', BinaryListValues: 'BinaryListValue' },
  ListMessageMoveTasksResult: { Results: 'ListMessageMoveTasksResultEntry' },
};

/** Map key/value element names. */
export const MAP_NAMES: Record<string, [string, string]> = {
  QueueAttributeMap: ['Name', 'Value'],
  MessageSystemAttributeMap: ['Name', 'Value'],
  MessageBodyAttributeMap: ['Name', 'Value'],
  MessageBodySystemAttributeMap: ['Name', 'Value'],
  TagMap: ['Key', 'Value'],
};

export function sqsQueryModel(json: ServiceModel): ServiceModel {
  const m = structuredClone(json);
  m.metadata = { ...m.metadata, protocol: 'query', xmlNamespace: 'http://queue.amazonaws.com/doc/2012-11-05/' };
  for (const [shapeName, members] of Object.entries(MEMBER_NAMES)) {
    const shape = m.shapes[shapeName];
    if (!shape?.members) continue;
    for (const [member, loc] of Object.entries(members)) {
      const ref: MemberRef | undefined = shape.members[member];
      if (!ref) continue;
      ref.locationName = loc;
      ref.flattened = true;
      const target = m.shapes[ref.shape];
      if (target?.type === 'list' && target.member) target.member = { ...target.member, locationName: loc };
    }
  }
  for (const [shapeName, [k, v]] of Object.entries(MAP_NAMES)) {
    const shape = m.shapes[shapeName];
    if (!shape?.key || !shape.value) continue;
    shape.key = { ...shape.key, locationName: k };
    shape.value = { ...shape.value, locationName: v };
  }
  for (const [name, op] of Object.entries(m.operations)) {
    if (op.output) op.output = { ...op.output, resultWrapper: `${name}Result` };
  }
  return m;
}
