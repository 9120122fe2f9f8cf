export { decodeIterator, encodeIterator, type IteratorState } from './iterator.ts';
export {
  type AppendResult,
  type CreateLogOptions,
  defaultShardId,
  type LogEvent,
  type LogEventKind,
  type LogListener,
  type LogMeta,
  OrderedLogs,
  type OrderedLogsOptions,
  type ShardMeta,
} from './ordered-log.ts';
export { DYNAMODB_SEQUENCE, formatSequence, KINESIS_SEQUENCE, parseSequence, type SequenceFormat } from './sequence.ts';
