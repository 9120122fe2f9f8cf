/**
 * Lambda FilterCriteria dialect. Sources: the Lambda developer guide ("Lambda event filtering":
 * comparison operators, Kinesis/DynamoDB/SQS examples, body/data format rules). Any invalid pattern
 * is `InvalidParameterValueException: Invalid filter pattern definition.`
 */
import { describe, expect, it } from 'vitest';
import { type Case, runCases } from './cases.ts';
import { compilePattern, lambdaData, matches } from './index.ts';

const INVALID = 'Invalid filter pattern definition.';

const kinesis = {
  kinesis: {
    partitionKey: '1',
    sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
    data: { City: 'Seattle', State: 'WA', Temperature: 46, Month: 'December' },
    approximateArrivalTimestamp: 1545084650.987,
  },
  eventSource: 'aws:kinesis',
};
const ddb = {
  eventName: 'INSERT',
  dynamodb: {
    Keys: { Id: { N: '101' } },
    NewImage: { Message: { S: 'New item!' }, Id: { N: '101' } },
    SequenceNumber: '111',
    SizeBytes: 26,
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
};
const sqs = (body: string) => ({
  messageId: 'm1',
  body: lambdaData(body),
  attributes: { ApproximateReceiveCount: '1' },
});

const cases: Case[] = [
  {
    name: 'doc: metadata + data equals',
    pattern: { kinesis: { partitionKey: ['1'], data: { City: ['Seattle'] } } },
    event: kinesis,
    match: true,
  },
  {
    name: 'doc: data numeric range (> 50, <= 60) rejects 46',
    pattern: { kinesis: { data: { Temperature: [{ numeric: ['>', 50, '<=', 60] }] } } },
    event: kinesis,
    match: false,
  },
  {
    name: 'numeric range accepts 46',
    pattern: { kinesis: { data: { Temperature: [{ numeric: ['>', 40, '<=', 60] }] } } },
    event: kinesis,
    match: true,
  },
  {
    name: 'doc: multi-level DynamoDB key',
    pattern: { dynamodb: { Keys: { Id: { N: ['101'] } } } },
    event: ddb,
    match: true,
  },
  {
    name: 'doc: DynamoDB N values are strings',
    pattern: { dynamodb: { Keys: { Id: { N: [101] } } } },
    event: ddb,
    match: false,
  },
  { name: 'doc: eventName INSERT', pattern: { eventName: ['INSERT'] }, event: ddb, match: true },
  { name: 'doc: null operator', pattern: { UserID: [null] }, event: { UserID: null }, match: true },
  { name: 'doc: empty operator', pattern: { LastName: [''] }, event: { LastName: '' }, match: true },
  {
    name: 'doc: OR on values',
    pattern: { PaymentType: ['Credit', 'Debit'] },
    event: { PaymentType: 'Debit' },
    match: true,
  },
  {
    name: 'doc: not (anything-but)',
    pattern: { Weather: [{ 'anything-but': ['Raining'] }] },
    event: { Weather: 'Sunny' },
    match: true,
  },
  { name: 'doc: numeric equals', pattern: { Price: [{ numeric: ['=', 100] }] }, event: { Price: 100 }, match: true },
  { name: 'doc: exists', pattern: { ProductName: [{ exists: true }] }, event: { ProductName: 'x' }, match: true },
  { name: 'doc: does not exist', pattern: { ProductName: [{ exists: false }] }, event: {}, match: true },
  { name: 'doc: begins with', pattern: { Region: [{ prefix: 'us-' }] }, event: { Region: 'us-east-1' }, match: true },
  { name: 'doc: ends with', pattern: { FileName: [{ suffix: '.png' }] }, event: { FileName: 'a.png' }, match: true },
  {
    name: 'doc: equals-ignore-case',
    pattern: { Name: [{ 'equals-ignore-case': 'alice' }] },
    event: { Name: 'ALICE' },
    match: true,
  },
  {
    name: 'doc: SQS JSON body with JSON pattern',
    pattern: { body: { RequestCode: ['BBBB'] } },
    event: sqs('{"RequestCode": "BBBB"}'),
    match: true,
  },
  { name: 'doc: SQS plain body with plain pattern', pattern: { body: ['plain'] }, event: sqs('plain'), match: true },
  {
    name: 'doc: SQS plain body with JSON pattern is dropped',
    pattern: { body: { RequestCode: ['BBBB'] } },
    event: sqs('RequestCode=BBBB'),
    match: false,
  },
  {
    name: 'doc: SQS JSON body with plain pattern is dropped',
    pattern: { body: ['{"a": 1}'] },
    event: sqs('{"a": 1}'),
    match: false,
  },
  {
    name: 'doc: metadata-only pattern ignores the body format',
    pattern: { attributes: { ApproximateReceiveCount: ['1'] } },
    event: sqs('anything'),
    match: true,
  },
  {
    name: '$or between data fields',
    pattern: { kinesis: { data: { $or: [{ City: ['Paris'] }, { State: ['WA'] }] } } },
    event: kinesis,
    match: true,
  },
];

const errors: Case[] = [
  { name: 'not JSON', pattern: '{ "a": [1, 2 }', error: INVALID },
  { name: 'scalar value', pattern: { a: 1 }, error: INVALID },
  { name: 'empty array', pattern: { a: [] }, error: INVALID },
  { name: 'wildcard is not supported for event source mappings', pattern: { a: [{ wildcard: 'x*' }] }, error: INVALID },
  {
    name: 'anything-but prefix is not supported for event source mappings',
    pattern: { a: [{ 'anything-but': { prefix: 'x' } }] },
    error: INVALID,
  },
  { name: 'unknown operator', pattern: { a: [{ contains: 'x' }] }, error: INVALID },
];

describe('lambda: match / no-match', () => runCases('lambda', cases));
describe('lambda: invalid patterns (InvalidParameterValueException)', () => runCases('lambda', errors));

describe('lambdaData', () => {
  it('parses JSON objects and arrays, keeps other text', () => {
    expect(lambdaData('{"a":1}')).toEqual({ a: 1 });
    expect(lambdaData('[1]')).toEqual([1]);
    expect(lambdaData('{"a":')).toBe('{"a":');
    expect(lambdaData('42')).toBe('42');
  });
  it('a decoded Kinesis payload is matched through data', () => {
    const data = Buffer.from(JSON.stringify({ status: 'ERROR' })).toString('base64');
    const record = { kinesis: { data: lambdaData(Buffer.from(data, 'base64').toString('utf8')) } };
    expect(matches(compilePattern({ kinesis: { data: { status: ['ERROR'] } } }, 'lambda'), record)).toBe(true);
  });
});
