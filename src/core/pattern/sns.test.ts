/**
 * SNS dialects. Sources: the SNS developer guide ("Amazon SNS subscription filter policies",
 * "Filter policy constraints", attribute- and payload-based filtering examples) and error texts
 * recorded against AWS for Subscribe (`Attributes Reason: FilterPolicy: ...`) and
 * SetSubscriptionAttributes (`FilterPolicy: ...`).
 */
import { describe, expect, it } from 'vitest';
import { at, type Case, runCases } from './cases.ts';
import { compilePattern, formatPatternError, matchesSnsBody, PatternError, snsAttributesToEvent } from './index.ts';

const S = 'Invalid parameter: Attributes Reason: FilterPolicy: ';
const sub = (src: string, reason: string, column: number) => S + reason + at(src, column);

/** The doc's example message attributes. */
const attrs = {
  customer_interests: { Type: 'String.Array', Value: '["soccer", "rugby", "hockey"]' },
  store: { Type: 'String', Value: 'example_corp' },
  event: { Type: 'String', Value: 'order_placed' },
  price_usd: { Type: 'Number', Value: '210.75' },
};
const str = (v: string) => ({ Type: 'String', Value: v });
const num = (v: string) => ({ Type: 'Number', Value: v });

const attributeCases: Case[] = [
  {
    name: 'doc: a policy that accepts the example message',
    pattern: {
      store: ['example_corp'],
      event: [{ 'anything-but': 'order_cancelled' }],
      customer_interests: ['rugby', 'football', 'baseball'],
      price_usd: [{ numeric: ['>=', 100] }],
    },
    event: attrs,
    match: true,
  },
  {
    name: 'doc: a policy that rejects it (encrypted attribute absent)',
    pattern: {
      store: ['example_corp'],
      event: ['order_cancelled'],
      encrypted: [false],
      customer_interests: ['basketball', 'baseball'],
    },
    event: attrs,
    match: false,
  },
  {
    name: 'doc: exact string',
    pattern: { customer_interests: ['rugby', 'tennis'] },
    event: { customer_interests: str('rugby') },
    match: true,
  },
  {
    name: 'doc: exact string mismatch',
    pattern: { customer_interests: ['rugby', 'tennis'] },
    event: { customer_interests: str('baseball') },
    match: false,
  },
  { name: 'String comparison is case-sensitive', pattern: { store: ['Example_Corp'] }, event: attrs, match: false },
  {
    name: 'doc: anything-but list',
    pattern: { customer_interests: [{ 'anything-but': ['rugby', 'tennis'] }] },
    event: { customer_interests: str('baseball') },
    match: true,
  },
  {
    name: 'doc: anything-but on String.Array with one other value',
    pattern: { customer_interests: [{ 'anything-but': ['rugby', 'tennis'] }] },
    event: { customer_interests: { Type: 'String.Array', Value: '["rugby", "baseball"]' } },
    match: true,
  },
  {
    name: 'doc: anything-but excludes',
    pattern: { customer_interests: [{ 'anything-but': ['rugby', 'tennis'] }] },
    event: { customer_interests: str('rugby') },
    match: false,
  },
  {
    name: 'recorded: [null, anything-but] does not match a missing attribute',
    pattern: { attr1: [null, { 'anything-but': 'whatever' }] },
    event: {},
    match: false,
  },
  {
    name: 'doc: anything-but prefix',
    pattern: { event: [{ 'anything-but': { prefix: 'order-' } }] },
    event: { event: str('info-one') },
    match: true,
  },
  {
    name: 'anything-but prefix excludes',
    pattern: { event: [{ 'anything-but': { prefix: 'order-' } }] },
    event: { event: str('order-placed') },
    match: false,
  },
  {
    name: 'doc: prefix',
    pattern: { customer_interests: [{ prefix: 'bas' }] },
    event: { customer_interests: str('basketball') },
    match: true,
  },
  {
    name: 'doc: prefix mismatch',
    pattern: { customer_interests: [{ prefix: 'bas' }] },
    event: { customer_interests: str('rugby') },
    match: false,
  },
  {
    name: 'doc: suffix',
    pattern: { customer_interests: [{ suffix: 'ball' }] },
    event: { customer_interests: str('baseball') },
    match: true,
  },
  {
    name: 'doc: equals-ignore-case',
    pattern: { customer_interests: [{ 'equals-ignore-case': 'tennis' }] },
    event: { customer_interests: str('TeNnis') },
    match: true,
  },
  {
    name: 'doc: numeric =',
    pattern: { price_usd: [{ numeric: ['=', 301.5] }] },
    event: { price_usd: num('301.5') },
    match: true,
  },
  {
    name: 'doc: numeric = matches 3.015e2',
    pattern: { price_usd: [{ numeric: ['=', 301.5] }] },
    event: { price_usd: num('3.015e2') },
    match: true,
  },
  {
    name: 'doc: numeric anything-but',
    pattern: { price: [{ 'anything-but': [100, 500] }] },
    event: { price: num('100.1') },
    match: true,
  },
  {
    name: 'doc: numeric anything-but excludes',
    pattern: { price: [{ 'anything-but': [100, 500] }] },
    event: { price: num('100') },
    match: false,
  },
  {
    name: 'doc: numeric range > 0 <= 150',
    pattern: { price_usd: [{ numeric: ['>', 0, '<=', 150] }] },
    event: { price_usd: num('150') },
    match: true,
  },
  {
    name: 'doc: numeric < 0',
    pattern: { price_usd: [{ numeric: ['<', 0] }] },
    event: { price_usd: num('210.75') },
    match: false,
  },
  {
    name: 'numeric does not apply to String attributes',
    pattern: { price_usd: [{ numeric: ['>', 0] }] },
    event: { price_usd: str('5') },
    match: false,
  },
  {
    name: 'numeric compares to 5 decimals',
    pattern: { p: [{ numeric: ['=', 1.00001] }] },
    event: { p: num('1.000011') },
    match: true,
  },
  {
    name: 'numeric beyond 1e9 never matches',
    pattern: { p: [{ numeric: ['>', 0] }] },
    event: { p: num('2000000000') },
    match: false,
  },
  { name: 'Number attribute matches an exact number', pattern: { price_usd: [210.75] }, event: attrs, match: true },
  { name: 'doc: exists true', pattern: { store: [{ exists: true }] }, event: attrs, match: true },
  {
    name: 'doc: exists true without the key',
    pattern: { store: [{ exists: true }] },
    event: { customer_interests: attrs.customer_interests },
    match: false,
  },
  {
    name: 'doc: exists false without the key',
    pattern: { store: [{ exists: false }] },
    event: { event: str('x') },
    match: true,
  },
  { name: 'exists false with the key', pattern: { store: [{ exists: false }] }, event: attrs, match: false },
  {
    name: 'doc: Binary attributes are ignored',
    pattern: { blob: [{ exists: true }] },
    event: { blob: { Type: 'Binary', Value: 'AAEC' } },
    match: false,
  },
  {
    name: 'Binary attributes count as absent',
    pattern: { blob: [{ exists: false }] },
    event: { blob: { Type: 'Binary', Value: 'AAEC' } },
    match: true,
  },
  { name: 'String.Array matches element-wise', pattern: { customer_interests: ['hockey'] }, event: attrs, match: true },
  {
    name: 'String.Array of numbers',
    pattern: { codes: [{ numeric: ['>', 10] }] },
    event: { codes: { Type: 'String.Array', Value: '[1, 20]' } },
    match: true,
  },
  {
    name: 'custom String type',
    pattern: { t: ['x'] },
    event: { t: { Type: 'String.custom', Value: 'x' } },
    match: true,
  },
  {
    name: 'Publish-style DataType/StringValue',
    pattern: { t: ['x'] },
    event: { t: { DataType: 'String', StringValue: 'x' } },
    match: true,
  },
  {
    name: 'doc: cidr on a String attribute',
    pattern: { source_ip: [{ cidr: '10.0.0.0/24' }] },
    event: { source_ip: str('10.0.0.7') },
    match: true,
  },
  {
    name: 'doc: $or across attributes',
    pattern: { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }] },
    event: { source: str('aws.cloudwatch'), namespace: str('AWS/EC2') },
    match: true,
  },
  { name: 'no attributes at all', pattern: { store: ['example_corp'] }, event: undefined, match: false },
];

const attributeErrors: Case[] = [
  {
    name: 'recorded: nested array value',
    pattern: '{"key":[["value"]]}',
    error: sub('{"key":[["value"]]}', 'Match value must be String, number, true, false, or null', 10),
  },
  {
    name: 'recorded: unknown operator',
    pattern: '{"key":[{"wrong-operator":true}]}',
    error: sub('{"key":[{"wrong-operator":true}]}', 'Unrecognized match type wrong-operator', 31),
  },
  {
    name: 'recorded: two operators',
    pattern: '{"key":[{"suffix":"value","prefix":"value2"}]}',
    error: sub('{"key":[{"suffix":"value","prefix":"value2"}]}', 'Only one key allowed in match expression', 37),
  },
  {
    name: 'recorded: suffix number',
    pattern: '{"key":[{"suffix":100}]}',
    error: sub('{"key":[{"suffix":100}]}', 'suffix match pattern must be a string', 22),
  },
  {
    name: 'recorded: suffix null',
    pattern: '{"key":[{"suffix":null}]}',
    error: sub('{"key":[{"suffix":null}]}', 'suffix match pattern must be a string', 23),
  },
  {
    name: 'recorded: operator object without array',
    pattern: '{"key":{"suffix":"value"}}',
    error: sub('{"key":{"suffix":"value"}}', '"suffix" must be an object or an array', 19),
  },
  {
    name: 'recorded: suffix empty list',
    pattern: '{"key":[{"suffix":[]}]}',
    error: sub('{"key":[{"suffix":[]}]}', 'suffix match pattern must be a string', 20),
  },
  {
    name: 'recorded: non-operator object without array',
    pattern: '{"key":{"not-an-operator":"value"}}',
    error: sub('{"key":{"not-an-operator":"value"}}', '"not-an-operator" must be an object or an array', 28),
  },
  {
    name: 'recorded: numeric empty',
    pattern: '{"key":[{"numeric":[]}]}',
    error: sub('{"key":[{"numeric":[]}]}', 'Invalid member in numeric match: ]', 22),
  },
  {
    name: 'recorded: numeric wrong operator',
    pattern: '{"key":[{"numeric":["operator"]}]}',
    error: sub('{"key":[{"numeric":["operator"]}]}', 'Unrecognized numeric range operator: operator', 32),
  },
  {
    name: 'recorded: numeric operand first',
    pattern: '{"key":[{"numeric":[1,"<="]}]}',
    error: sub('{"key":[{"numeric":[1,"<="]}]}', 'Invalid member in numeric match: 1', 22),
  },
  {
    name: 'recorded: numeric string value',
    pattern: '{"key":[{"numeric":["=","000"]}]}',
    error: sub('{"key":[{"numeric":["=","000"]}]}', 'Value of equals must be numeric', 26),
  },
  {
    name: 'recorded: numeric missing value',
    pattern: '{"key":[{"numeric":[">="]}]}',
    error: sub('{"key":[{"numeric":[">="]}]}', 'Value of >= must be numeric', 26),
  },
  {
    name: 'recorded: numeric wrong range order',
    pattern: '{"key":[{"numeric":["<",100,">",10]}]}',
    error: sub('{"key":[{"numeric":["<",100,">",10]}]}', 'Too many elements in numeric expression', 30),
  },
  {
    name: 'recorded: numeric wrong range operators',
    pattern: '{"key":[{"numeric":[">=",1,">",2]}]}',
    error: sub('{"key":[{"numeric":[">=",1,">",2]}]}', 'Bad numeric range operator: >', 31),
  },
  {
    name: 'recorded: numeric bottom above top',
    pattern: '{"key":[{"numeric":[">",3,"<",1]}]}',
    error: sub('{"key":[{"numeric":[">",3,"<",1]}]}', 'Bottom must be less than top', 33),
  },
  {
    name: 'recorded: numeric missing range value',
    pattern: '{"key":[{"numeric":[">",20,"<="]}]}',
    error: sub('{"key":[{"numeric":[">",20,"<="]}]}', 'Value of <= must be numeric', 33),
  },
  {
    name: 'recorded: numeric missing range operator',
    pattern: '{"key":[{"numeric":[">",20,30]}]}',
    error: sub('{"key":[{"numeric":[">",20,30]}]}', 'Bad value in numeric range: 30', 30),
  },
  {
    name: 'recorded: numeric bad second operator',
    pattern: '{"key":[{"numeric":[">",20,"test"]}]}',
    error: sub('{"key":[{"numeric":[">",20,"test"]}]}', 'Bad numeric range operator: test', 34),
  },
  {
    name: 'recorded: numeric string bottom',
    pattern: '{"key":[{"numeric":[">","20","<","30"]}]}',
    error: sub('{"key":[{"numeric":[">","20","<","30"]}]}', 'Value of > must be numeric', 26),
  },
  {
    name: 'recorded: numeric string top',
    pattern: '{"key":[{"numeric":[">",20,"<","30"]}]}',
    error: sub('{"key":[{"numeric":[">",20,"<","30"]}]}', 'Value of < must be numeric', 33),
  },
  {
    name: 'recorded: numeric too many terms',
    pattern: '{"key":[{"numeric":[">",20,"<",30,"<",50]}]}',
    error: sub('{"key":[{"numeric":[">",20,"<",30,"<",50]}]}', 'Too many terms in numeric range expression', 36),
  },
  {
    name: 'recorded: exists null',
    pattern: '{"key":[{"exists":null}]}',
    error: sub('{"key":[{"exists":null}]}', 'exists match pattern must be either true or false.', 23),
  },
  {
    name: 'recorded: exists string',
    pattern: '{"key":[{"exists":"no"}]}',
    error: sub('{"key":[{"exists":"no"}]}', 'exists match pattern must be either true or false.', 20),
  },
  {
    name: 'recorded: more than 5 keys',
    pattern: { a: ['1'], b: ['1'], c: ['1'], d: ['1'], e: ['1'], f: ['1'] },
    error: `${S}Filter policy can not have more than 5 keys`,
  },
  {
    name: 'recorded: complexity in one condition (> 150 values)',
    pattern: { key: Array.from({ length: 151 }, (_, i) => `v${i}`) },
    error: `${S}Filter policy is too complex`,
  },
  {
    name: 'doc: complexity is the product of the value counts (13 x 12 = 156)',
    pattern: { a: Array.from({ length: 13 }, (_, i) => i), b: Array.from({ length: 12 }, (_, i) => i) },
    error: `${S}Filter policy is too complex`,
  },
  {
    name: 'recorded: complexity with $or (branches add up)',
    pattern: { $or: [{ a: Array.from({ length: 100 }, (_, i) => i) }, { b: Array.from({ length: 51 }, (_, i) => i) }] },
    error: `${S}Filter policy is too complex`,
  },
  {
    name: 'recorded: nested policy in attribute scope',
    pattern: { object: { key: [{ prefix: 'auto-' }] } },
    error:
      'Invalid parameter: Attributes Reason: Filter policy scope MessageAttributes does not support nested filter policy',
  },
  {
    name: 'wildcard is not an SNS operator',
    pattern: '{"key":[{"wildcard":"a*"}]}',
    error: sub('{"key":[{"wildcard":"a*"}]}', 'Unrecognized match type wildcard', 22),
  },
  {
    name: 'anything-but equals-ignore-case is not an SNS form',
    pattern: '{"key":[{"anything-but":{"equals-ignore-case":"x"}}]}',
    error: sub(
      '{"key":[{"anything-but":{"equals-ignore-case":"x"}}]}',
      'Unsupported anything-but pattern: equals-ignore-case',
      48,
    ),
  },
  {
    name: 'invalid JSON',
    pattern: '{invalidjson}',
    error: sub(
      '{invalidjson}',
      "failed to parse JSON. Unexpected character ('i' (code 105)): was expecting double-quote to start field name",
      2,
    ),
  },
];

const B = 'Invalid parameter: FilterPolicy: ';
const bodyMessage = {
  store: 'example_corp',
  customer_interests: ['soccer', 'rugby', 'hockey'],
  price_usd: 210.75,
  event: { type: 'order_placed', source: { ip: '10.0.0.5' } },
  items: [
    { sku: 'a', qty: 1 },
    { sku: 'b', qty: 5 },
  ],
};
const bodyCases: Case[] = [
  { name: 'doc: payload nested key', pattern: { event: { type: ['order_placed'] } }, event: bodyMessage, match: true },
  {
    name: 'doc: payload nested key mismatch',
    pattern: { event: { type: ['order_cancelled'] } },
    event: bodyMessage,
    match: false,
  },
  {
    name: 'payload array field matches any element',
    pattern: { customer_interests: ['rugby'] },
    event: bodyMessage,
    match: true,
  },
  {
    name: 'payload deep nesting',
    pattern: { event: { source: { ip: [{ cidr: '10.0.0.0/24' }] } } },
    event: bodyMessage,
    match: true,
  },
  { name: 'payload numeric', pattern: { price_usd: [{ numeric: ['>', 200] }] }, event: bodyMessage, match: true },
  {
    name: 'payload exists false',
    pattern: { event: { missing: [{ exists: false }] } },
    event: bodyMessage,
    match: true,
  },
  {
    name: 'payload array of objects, same element',
    pattern: { items: { sku: ['b'], qty: [{ numeric: ['>', 2] }] } },
    event: bodyMessage,
    match: true,
  },
  {
    name: 'payload array of objects, different elements',
    pattern: { items: { sku: ['a'], qty: [{ numeric: ['>', 2] }] } },
    event: bodyMessage,
    match: false,
  },
  {
    name: 'payload $or',
    pattern: { $or: [{ store: ['x'] }, { event: { type: ['order_placed'] } }] },
    event: bodyMessage,
    match: true,
  },
];
const bodyErrors: Case[] = [
  {
    name: 'recorded (SetSubscriptionAttributes): rule without list',
    pattern: '{"key_a":"value_one"}',
    error: B + '"key_a" must be an object or an array' + at('{"key_a":"value_one"}', 11),
  },
  {
    name: 'doc: nested complexity multiplies by depth (4 values x 3 levels x 3 values x 2 levels = 72, x3 = 216)',
    pattern: { a: { b: { c: [1, 2, 3, 4] } }, d: { e: [1, 2, 3] }, f: [1, 2, 3] },
    error: `${B}Filter policy is too complex`,
  },
  {
    name: 'recorded (SetSubscriptionAttributes): more than 5 keys',
    pattern: { a: { b: [1], c: [1], d: [1] }, e: [1], f: [1], g: [1] },
    error: `${B}Filter policy can not have more than 5 keys`,
  },
];

describe('sns-attributes: match / no-match', () => runCases('sns-attributes', attributeCases));
describe('sns-attributes: invalid policies (Subscribe)', () =>
  runCases('sns-attributes', attributeErrors, { operation: 'Subscribe' }));
describe('sns-body: match / no-match', () => runCases('sns-body', bodyCases));
describe('sns-body: invalid policies (SetSubscriptionAttributes)', () => runCases('sns-body', bodyErrors));

describe('sns helpers', () => {
  it('nested policies are valid in MessageBody scope', () => {
    expect(() => compilePattern({ object: { key: [{ prefix: 'auto-' }] } }, 'sns-body')).not.toThrow();
  });
  it('doc: the 72-combination nested policy is accepted', () => {
    expect(() =>
      compilePattern(
        { key_a: { key_b: { key_c: ['1', '2', '3', '4'] } }, key_d: { key_e: ['1', '2', '3'] } },
        'sns-body',
      ),
    ).not.toThrow();
  });
  it('matchesSnsBody: a non-JSON message never matches', () => {
    const p = compilePattern({ a: [{ exists: false }] }, 'sns-body');
    expect(matchesSnsBody(p, 'plain text')).toBe(false);
    expect(matchesSnsBody(p, '{"b": 1}')).toBe(true);
  });
  it('SetSubscriptionAttributes wording has no "Attributes Reason"', () => {
    const e = new PatternError('Filter policy is too complex');
    expect(formatPatternError('sns-attributes', e)).toEqual({
      code: 'InvalidParameter',
      message: 'Invalid parameter: FilterPolicy: Filter policy is too complex',
    });
  });
  it('snsAttributesToEvent converts by data type', () => {
    expect(snsAttributesToEvent(attrs)).toEqual({
      customer_interests: ['soccer', 'rugby', 'hockey'],
      store: 'example_corp',
      event: 'order_placed',
      price_usd: 210.75,
    });
  });
});
