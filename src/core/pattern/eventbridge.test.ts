/**
 * EventBridge dialect. Sources: the EventBridge user guide ("Amazon EventBridge event patterns",
 * "Content filtering", "Comparison operators", "Arrays in event patterns") and error texts recorded
 * against AWS (TestEventPattern / PutRule), which carry Jackson's location suffix.
 */
import { describe } from 'vitest';
import { at, type Case, runCases } from './cases.ts';

const R = 'Event pattern is not valid. Reason: ';
const err = (src: string, reason: string, column: number) => R + reason + at(src, column);

/** The EC2 state-change sample event from "Amazon EventBridge event patterns". */
const ec2 = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};
const ev = (detail: unknown, extra: Record<string, unknown> = {}) => ({ ...ec2, detail, ...extra });

const matching: Case[] = [
  // Basics: "Amazon EventBridge event patterns"
  { name: 'doc: source exact match', pattern: { source: ['aws.ec2'] }, event: ec2, match: true },
  { name: 'doc: source mismatch', pattern: { source: ['aws.s3'] }, event: ec2, match: false },
  {
    name: 'doc: source + detail-type + nested detail.state (AND)',
    pattern: {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['terminated'] },
    },
    event: ec2,
    match: true,
  },
  {
    name: 'doc: array of values is OR',
    pattern: { detail: { state: ['running', 'terminated'] } },
    event: ec2,
    match: true,
  },
  { name: 'field missing from event does not match', pattern: { detail: { nope: ['x'] } }, event: ec2, match: false },
  { name: 'string matching is case-sensitive', pattern: { source: ['AWS.EC2'] }, event: ec2, match: false },
  { name: 'extra event fields are ignored', pattern: { region: ['us-west-1'] }, event: ec2, match: true },
  // Arrays in events: "Arrays in Amazon EventBridge event patterns"
  {
    name: 'doc arrays: pattern value matches any element of the event array',
    pattern: { resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0', 'other'] },
    event: ec2,
    match: true,
  },
  {
    name: 'doc arrays: no intersection, no match',
    pattern: { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] },
    event: ec2,
    match: false,
  },
  {
    name: 'empty event array has no values',
    pattern: { resources: [null] },
    event: ev({}, { resources: [] }),
    match: false,
  },
  {
    name: 'empty event array counts as absent for exists:false',
    pattern: { resources: [{ exists: false }] },
    event: ev({}, { resources: [] }),
    match: true,
  },
  {
    name: 'array of objects: nested field reached through the array',
    pattern: { detail: { items: { sku: ['b'] } } },
    event: ev({ items: [{ sku: 'a' }, { sku: 'b' }] }),
    match: true,
  },
  {
    name: 'array consistency: two fields from the same element',
    pattern: { detail: { items: { sku: ['a'], qty: [2] } } },
    event: ev({
      items: [
        { sku: 'a', qty: 2 },
        { sku: 'b', qty: 3 },
      ],
    }),
    match: true,
  },
  {
    name: 'array consistency: fields satisfied only by different elements do not match',
    pattern: { detail: { items: { sku: ['a'], qty: [3] } } },
    event: ev({
      items: [
        { sku: 'a', qty: 2 },
        { sku: 'b', qty: 3 },
      ],
    }),
    match: false,
  },
  {
    name: 'nested arrays are flattened',
    pattern: { detail: { m: [3] } },
    event: ev({ m: [[1, 2], [3]] }),
    match: true,
  },
  // null, empty, booleans: "Matching null values and empty strings"
  {
    name: 'doc: null matches a null value',
    pattern: { detail: { responseElements: [null] } },
    event: ev({ responseElements: null }),
    match: true,
  },
  {
    name: 'null does not match a missing field',
    pattern: { detail: { responseElements: [null] } },
    event: ev({}),
    match: false,
  },
  {
    name: 'null does not match the string "null"',
    pattern: { detail: { x: [null] } },
    event: ev({ x: 'null' }),
    match: false,
  },
  {
    name: 'doc: empty string matches empty string',
    pattern: { detail: { eventVersion: [''] } },
    event: ev({ eventVersion: '' }),
    match: true,
  },
  {
    name: 'empty string does not match null',
    pattern: { detail: { eventVersion: [''] } },
    event: ev({ eventVersion: null }),
    match: false,
  },
  { name: 'boolean true', pattern: { detail: { b: [true] } }, event: ev({ b: true }), match: true },
  {
    name: 'boolean does not match the string "true"',
    pattern: { detail: { b: [true] } },
    event: ev({ b: 'true' }),
    match: false,
  },
  { name: 'false matches false', pattern: { detail: { b: [false] } }, event: ev({ b: false }), match: true },
  // Numbers
  { name: 'number exact match', pattern: { detail: { n: [300] } }, event: ev({ n: 300 }), match: true },
  {
    name: 'recorded: 300 matches 300.0 (numeric equality)',
    pattern: '{"detail": {"n": [300]}}',
    event: JSON.parse('{"detail": {"n": 300.0}}'),
    match: true,
  },
  {
    name: '3.0e2 in the pattern matches 300',
    pattern: '{"detail": {"n": [3.0e2]}}',
    event: ev({ n: 300 }),
    match: true,
  },
  {
    name: 'number does not match its string form',
    pattern: { detail: { n: [300] } },
    event: ev({ n: '300' }),
    match: false,
  },
  { name: 'string does not match a number', pattern: { detail: { n: ['300'] } }, event: ev({ n: 300 }), match: false },
  {
    name: 'account-number-sized integers match exactly',
    pattern: { account: [111122223333] },
    event: ev({}, { account: 111122223333 }),
    match: true,
  },
  // prefix / suffix
  { name: 'doc: prefix on time', pattern: { time: [{ prefix: '2017-12-22' }] }, event: ec2, match: true },
  { name: 'prefix mismatch', pattern: { time: [{ prefix: '2017-10-02' }] }, event: ec2, match: false },
  {
    name: 'prefix does not match numbers',
    pattern: { detail: { n: [{ prefix: '1' }] } },
    event: ev({ n: 12 }),
    match: false,
  },
  {
    name: 'empty prefix matches any string',
    pattern: { detail: { s: [{ prefix: '' }] } },
    event: ev({ s: 'x' }),
    match: true,
  },
  {
    name: 'doc: prefix equals-ignore-case',
    pattern: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] },
    event: ev({}, { service: 'EventBridge' }),
    match: true,
  },
  {
    name: 'doc: suffix',
    pattern: { FileName: [{ suffix: '.png' }] },
    event: ev({}, { FileName: 'image.png' }),
    match: true,
  },
  {
    name: 'suffix is case-sensitive',
    pattern: { FileName: [{ suffix: '.png' }] },
    event: ev({}, { FileName: 'image.PNG' }),
    match: false,
  },
  {
    name: 'doc: suffix equals-ignore-case',
    pattern: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] },
    event: ev({}, { FileName: 'image.PNG' }),
    match: true,
  },
  // equals-ignore-case
  {
    name: 'doc: equals-ignore-case',
    pattern: { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] },
    event: ec2,
    match: true,
  },
  {
    name: 'recorded: equals-ignore-case "" matches ""',
    pattern: { detail: { value: [{ 'equals-ignore-case': '' }] } },
    event: ev({ value: '' }),
    match: true,
  },
  {
    name: 'equals-ignore-case is not a prefix match',
    pattern: { source: [{ 'equals-ignore-case': 'AWS' }] },
    event: ec2,
    match: false,
  },
  // anything-but
  {
    name: 'doc: anything-but string',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: ev({ state: 'running' }),
    match: true,
  },
  {
    name: 'anything-but excludes the value',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: ev({ state: 'initializing' }),
    match: false,
  },
  {
    name: 'recorded: anything-but string matches a null value',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: ev({ state: null }),
    match: true,
  },
  {
    name: 'recorded: anything-but does not match a missing field',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: ev({}),
    match: false,
  },
  {
    name: 'doc: anything-but number',
    pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    event: ev({ 'x-limit': 456 }),
    match: true,
  },
  {
    name: 'recorded: anything-but 123 excludes 123',
    pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    event: ev({ 'x-limit': 123 }),
    match: false,
  },
  {
    name: 'anything-but 123 excludes 123.0 (numeric)',
    pattern: '{"detail": {"x": [{"anything-but": 123}]}}',
    event: ev({ x: 123.0 }),
    match: false,
  },
  {
    name: 'anything-but number matches the string form',
    pattern: { detail: { x: [{ 'anything-but': 123 }] } },
    event: ev({ x: '123' }),
    match: true,
  },
  {
    name: 'doc: anything-but string list',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: ev({ state: 'running' }),
    match: true,
  },
  {
    name: 'anything-but string list excludes',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: ev({ state: 'stopped' }),
    match: false,
  },
  {
    name: 'doc: anything-but number list',
    pattern: { detail: { x: [{ 'anything-but': [100, 200, 300] }] } },
    event: ev({ x: 150 }),
    match: true,
  },
  {
    name: 'anything-but number list excludes',
    pattern: { detail: { x: [{ 'anything-but': [100, 200, 300] }] } },
    event: ev({ x: 200 }),
    match: false,
  },
  {
    name: 'anything-but on an event array matches when any element is not excluded',
    pattern: { detail: { xs: [{ 'anything-but': 'a' }] } },
    event: ev({ xs: ['a', 'b'] }),
    match: true,
  },
  {
    name: 'anything-but on an event array of only excluded values',
    pattern: { detail: { xs: [{ 'anything-but': 'a' }] } },
    event: ev({ xs: ['a', 'a'] }),
    match: false,
  },
  {
    name: 'doc: anything-but prefix',
    pattern: { Region: [{ 'anything-but': { prefix: 'us-' } }] },
    event: ev({}, { Region: 'eu-west-1' }),
    match: true,
  },
  {
    name: 'anything-but prefix excludes',
    pattern: { Region: [{ 'anything-but': { prefix: 'us-' } }] },
    event: ev({}, { Region: 'us-east-1' }),
    match: false,
  },
  {
    name: 'recorded: anything-but prefix matches a number',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: ev({ state: 12 }),
    match: true,
  },
  {
    name: 'anything-but prefix list',
    pattern: { detail: { s: [{ 'anything-but': { prefix: ['a', 'b'] } }] } },
    event: ev({ s: 'bx' }),
    match: false,
  },
  {
    name: 'doc: anything-but suffix',
    pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    event: ev({}, { FileName: 'a.txt' }),
    match: true,
  },
  {
    name: 'anything-but suffix excludes',
    pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    event: ev({}, { FileName: 'a.png' }),
    match: false,
  },
  {
    name: 'doc: anything-but equals-ignore-case',
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    event: ev({}, { state: 'INITIALIZING' }),
    match: false,
  },
  {
    name: 'anything-but equals-ignore-case list',
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': ['a', 'B'] } }] },
    event: ev({}, { state: 'c' }),
    match: true,
  },
  {
    name: 'doc: anything-but wildcard',
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    event: ev({}, { FilePath: '/usr/lib/x' }),
    match: false,
  },
  {
    name: 'anything-but wildcard matches other paths',
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    event: ev({}, { FilePath: '/usr/bin/x' }),
    match: true,
  },
  // numeric
  {
    name: 'doc: numeric range > 0 <= 5',
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } },
    event: ev({ 'c-count': 5 }),
    match: true,
  },
  {
    name: 'numeric open bottom excludes 0',
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } },
    event: ev({ 'c-count': 0 }),
    match: false,
  },
  {
    name: 'numeric upper bound',
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } },
    event: ev({ 'c-count': 5.000001 }),
    match: false,
  },
  {
    name: 'doc: numeric < 10',
    pattern: { detail: { 'd-count': [{ numeric: ['<', 10] }] } },
    event: ev({ 'd-count': 9.99 }),
    match: true,
  },
  {
    name: 'doc: numeric = 3.018e2',
    pattern: '{"detail": {"x-limit": [{"numeric": ["=", 3.018e2]}]}}',
    event: ev({ 'x-limit': 301.8 }),
    match: true,
  },
  {
    name: 'numeric >= inclusive',
    pattern: { detail: { n: [{ numeric: ['>=', 10] }] } },
    event: ev({ n: 10 }),
    match: true,
  },
  {
    name: 'numeric >= with < top',
    pattern: { detail: { n: [{ numeric: ['>=', 10, '<', 20] }] } },
    event: ev({ n: 20 }),
    match: false,
  },
  {
    name: 'recorded: numeric does not match a numeric string',
    pattern: { number: [{ numeric: ['>', 100] }] },
    event: ev({}, { number: '300' }),
    match: false,
  },
  {
    name: 'recorded: numeric matches 101.0',
    pattern: { number: [{ numeric: ['>', 100] }] },
    event: ev({}, { number: 101.0 }),
    match: true,
  },
  {
    name: 'numeric does not match null',
    pattern: { n: [{ numeric: ['>', 0] }] },
    event: ev({}, { n: null }),
    match: false,
  },
  {
    name: 'numeric beyond 5e9 never matches',
    pattern: { n: [{ numeric: ['>', 0] }] },
    event: ev({}, { n: 6e9 }),
    match: false,
  },
  {
    name: 'numeric compares to 6 decimals',
    pattern: { n: [{ numeric: ['=', 0.1] }] },
    event: ev({}, { n: 0.1000000001 }),
    match: true,
  },
  {
    name: 'numeric on an event array matches any element',
    pattern: { n: [{ numeric: ['>', 5] }] },
    event: ev({}, { n: [1, 7] }),
    match: true,
  },
  // exists
  { name: 'doc: exists true', pattern: { detail: { state: [{ exists: true }] } }, event: ec2, match: true },
  {
    name: 'doc: exists false on a missing field',
    pattern: { detail: { c: [{ exists: false }] } },
    event: ec2,
    match: true,
  },
  {
    name: 'exists false on a present field',
    pattern: { detail: { state: [{ exists: false }] } },
    event: ec2,
    match: false,
  },
  {
    name: 'exists true matches a null value',
    pattern: { detail: { x: [{ exists: true }] } },
    event: ev({ x: null }),
    match: true,
  },
  {
    name: 'exists false does not match a null value',
    pattern: { detail: { x: [{ exists: false }] } },
    event: ev({ x: null }),
    match: false,
  },
  {
    name: 'recorded: exists does not match an intermediate node',
    pattern: { dynamodb: { presentKey: [{ exists: true }] } },
    event: ev({}, { dynamodb: { presentKey: { S: 'x' } } }),
    match: false,
  },
  {
    name: 'exists false: missing parent object',
    pattern: { detail: { a: { b: [{ exists: false }] } } },
    event: ev({}),
    match: true,
  },
  {
    name: 'recorded: anything-but or exists:false on a missing parent',
    pattern: { dynamodb: { NewImage: { homemade: { S: [{ 'anything-but': ['roses'] }, { exists: false }] } } } },
    event: ev({}, { dynamodb: { NewImage: { purchased: { N: '789' } } } }),
    match: true,
  },
  // cidr
  {
    name: 'doc: cidr IPv4',
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    event: ev({ sourceIPAddress: '10.0.0.255' }),
    match: true,
  },
  {
    name: 'cidr IPv4 outside',
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    event: ev({ sourceIPAddress: '10.0.1.0' }),
    match: false,
  },
  {
    name: 'doc: cidr IPv6',
    pattern: { detail: { sourceIPAddress: [{ cidr: '2001:db8::/64' }] } },
    event: ev({ sourceIPAddress: '2001:db8::2a' }),
    match: true,
  },
  {
    name: 'cidr IPv6 outside',
    pattern: { detail: { sourceIPAddress: [{ cidr: '2001:db8::/64' }] } },
    event: ev({ sourceIPAddress: '2001:db9::1' }),
    match: false,
  },
  {
    name: 'recorded: cidr does not match a number',
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    event: ev({ sourceIPAddress: 123 }),
    match: false,
  },
  {
    name: 'cidr does not match a hostname',
    pattern: { ip: [{ cidr: '10.0.0.0/8' }] },
    event: ev({}, { ip: 'example.com' }),
    match: false,
  },
  {
    name: 'cidr range starts at the address as written',
    pattern: { ip: [{ cidr: '10.0.0.5/24' }] },
    event: ev({}, { ip: '10.0.0.1' }),
    match: false,
  },
  {
    name: 'exact IPv6 literal matches another spelling',
    pattern: { ip: ['2001:db8::1'] },
    event: ev({}, { ip: '2001:0db8:0:0:0:0:0:1' }),
    match: true,
  },
  // wildcard
  {
    name: 'doc: wildcard',
    pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    event: ev({}, { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/default' }),
    match: true,
  },
  {
    name: 'wildcard anchored at both ends',
    pattern: { f: [{ wildcard: 'dir/*.png' }] },
    event: ev({}, { f: 'dir/a.png.txt' }),
    match: false,
  },
  {
    name: 'wildcard * matches an empty run',
    pattern: { f: [{ wildcard: 'a*b' }] },
    event: ev({}, { f: 'ab' }),
    match: true,
  },
  {
    name: 'wildcard escaped star is literal',
    pattern: { f: [{ wildcard: 'a\\*b' }] },
    event: ev({}, { f: 'a*b' }),
    match: true,
  },
  {
    name: 'wildcard escaped star does not match other chars',
    pattern: { f: [{ wildcard: 'a\\*b' }] },
    event: ev({}, { f: 'axb' }),
    match: false,
  },
  {
    name: 'wildcard regex metacharacters are literal',
    pattern: { f: [{ wildcard: 'a.c*' }] },
    event: ev({}, { f: 'abc' }),
    match: false,
  },
  // $or
  {
    name: 'doc: $or across fields',
    pattern: {
      detail: { $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }] },
    },
    event: ev({ 'd-count': 3 }),
    match: true,
  },
  {
    name: '$or none satisfied',
    pattern: { detail: { $or: [{ a: ['x'] }, { b: ['y'] }] } },
    event: ev({ a: 'y', b: 'x' }),
    match: false,
  },
  {
    name: 'doc: $or combined with AND fields',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    },
    event: ev({}, { source: 'aws.cloudwatch', namespace: 'AWS/ES' }),
    match: true,
  },
  {
    name: '$or branch still requires the AND field',
    pattern: { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }] },
    event: ev({}, { source: 'aws.ec2', namespace: 'AWS/EC2' }),
    match: false,
  },
  {
    name: 'nested $or',
    pattern: { $or: [{ a: ['1'] }, { $or: [{ b: ['2'] }, { c: ['3'] }] }] },
    event: ev({}, { c: '3' }),
    match: true,
  },
  // dotted names
  {
    name: 'recorded: dotted pattern key matches nested event keys',
    pattern: { 'detail.state': ['terminated'] },
    event: ec2,
    match: true,
  },
  {
    name: 'recorded: dotted event key matches nested pattern',
    pattern: { a: { b: ['c'] } },
    event: ev({}, { 'a.b': 'c' }),
    match: true,
  },
  // event shape
  { name: 'non-object event never matches', pattern: { a: ['b'] }, event: ['b'], match: false },
  {
    name: 'pattern object value vs scalar event value',
    pattern: { detail: { state: { x: ['y'] } } },
    event: ec2,
    match: false,
  },
];

const SEP = '{"detail": {"state": [{"anything-but": {"equals-ignore-case": [123, 456]}}]}}';
const errors: Case[] = [
  {
    name: 'recorded: scalar instead of array',
    pattern: '{"int": 42}',
    error: err('{"int": 42}', '"int" must be an object or an array', 11),
  },
  {
    name: 'recorded: string instead of array',
    pattern: '{"string": "my-value"}',
    error: err('{"string": "my-value"}', '"string" must be an object or an array', 13),
  },
  {
    name: 'recorded: empty array',
    pattern: '{"resources": []}',
    error: err('{"resources": []}', 'Empty arrays are not allowed', 17),
  },
  { name: 'empty object', pattern: '{}', error: err('{}', 'Empty objects are not allowed', 3) },
  {
    name: 'recorded: operator names are case-sensitive (NUMERIC)',
    pattern: '{"detail": {"equal": [{"NUMERIC": ["=", 5]}]}}',
    error: err('{"detail": {"equal": [{"NUMERIC": ["=", 5]}]}}', 'Unrecognized match type NUMERIC', 36),
  },
  {
    name: 'recorded: operator names are case-sensitive (EXISTS)',
    pattern: '{"my_key": [{"EXISTS": true}]}',
    error: err('{"my_key": [{"EXISTS": true}]}', 'Unrecognized match type EXISTS', 28),
  },
  {
    name: 'recorded: bad numeric range operator',
    pattern: '{"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}',
    error: err('{"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}', 'Bad numeric range operator: >', 49),
  },
  {
    name: 'recorded: numeric missing top value',
    pattern: '{"detail": {"c-count": [{"numeric": [">", 0, "<"]}]}}',
    error: err('{"detail": {"c-count": [{"numeric": [">", 0, "<"]}]}}', 'Value of < must be numeric', 50),
  },
  {
    name: 'recorded: consecutive wildcards',
    pattern: '{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]}',
    error: err(
      '{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]}',
      'Consecutive wildcard characters at pos 26',
      72,
    ),
  },
  {
    name: 'recorded: equals-ignore-case takes a string, not a list',
    pattern: '{"detail-type": [{"equals-ignore-case": ["ec2 instance state-change notification"]}]}',
    error: err(
      '{"detail-type": [{"equals-ignore-case": ["ec2 instance state-change notification"]}]}',
      'equals-ignore-case match pattern must be a string',
      42,
    ),
  },
  {
    name: 'recorded: equals-ignore-case takes a string, not an object',
    pattern: '{"detail-type": [{"equals-ignore-case": {"prefix": "ec2"}}]}',
    error: err(
      '{"detail-type": [{"equals-ignore-case": {"prefix": "ec2"}}]}',
      'equals-ignore-case match pattern must be a string',
      42,
    ),
  },
  {
    name: 'recorded: malformed CIDR (no location)',
    pattern: '{"detail": {"sourceIPAddress": [{"cidr": "bad-value"}]}}',
    error: R + "Malformed CIDR, one '/' required",
  },
  {
    name: 'recorded: CIDR mask not an integer',
    pattern: '{"ip": [{"cidr": "10.0.0.0/xx"}]}',
    error: R + 'Malformed CIDR, mask bits must be an integer',
  },
  {
    name: 'recorded: CIDR bad IPv4',
    pattern: '{"ip": [{"cidr": "xx.11.xx/24"}]}',
    error: R + 'Nonstandard IP address: xx.11.xx',
  },
  {
    name: 'recorded: CIDR bad IPv6',
    pattern: '{"ip": [{"cidr": "xxxx:db8:1234:1a00::/64"}]}',
    error: R + 'Nonstandard IP address: xxxx:db8:1234:1a00::',
  },
  {
    name: 'CIDR IPv4 /32 is rejected',
    pattern: '{"ip": [{"cidr": "10.0.0.1/32"}]}',
    error: R + 'IPv4 mask bits must be < 32',
  },
  {
    name: 'recorded: cidr takes a string',
    pattern: '{"detail": {"sourceIPAddress": [{"cidr": ["bad-type"]}]}}',
    error: err(
      '{"detail": {"sourceIPAddress": [{"cidr": ["bad-type"]}]}}',
      'prefix match pattern must be a string',
      43,
    ),
  },
  {
    name: 'recorded: anything-but equals-ignore-case number',
    pattern: '{"detail": {"state": [{"anything-but": {"equals-ignore-case": 123}}]}}',
    error: err(
      '{"detail": {"state": [{"anything-but": {"equals-ignore-case": 123}}]}}',
      'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.',
      66,
    ),
  },
  {
    name: 'recorded: anything-but equals-ignore-case number list (location twice)',
    pattern: SEP,
    error:
      R +
      'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.' +
      at(SEP, 67) +
      at(SEP, 67),
  },
  {
    name: 'recorded: not JSON',
    pattern: 'this is valid json but not a dict',
    error: err(
      'this is valid json but not a dict',
      "Unrecognized token 'this': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
      5,
    ),
  },
  {
    name: 'recorded: single quotes',
    pattern: "{'bad': 'quotation'}",
    error: err(
      "{'bad': 'quotation'}",
      "Unexpected character (''' (code 39)): was expecting double-quote to start field name",
      2,
    ),
  },
  {
    name: 'recorded: unquoted value',
    pattern: '{"not": closed mark"',
    error: err(
      '{"not": closed mark"',
      "Unrecognized token 'closed': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
      15,
    ),
  },
  {
    name: 'recorded: top-level array',
    pattern: '["not", "a", "dict", "but valid json"]',
    error: err('["not", "a", "dict", "but valid json"]', 'Filter is not an object', 2),
  },
  {
    name: 'recorded: wildcard takes a string (number)',
    pattern: '{"EventBusArn": [{"wildcard": 123}]}',
    error: err('{"EventBusArn": [{"wildcard": 123}]}', 'wildcard match pattern must be a string', 34),
  },
  {
    name: 'recorded: wildcard takes a string (list)',
    pattern: '{"EventBusArn": [{"wildcard": ["a*"]}]}',
    error: err('{"EventBusArn": [{"wildcard": ["a*"]}]}', 'wildcard match pattern must be a string', 32),
  },
  {
    name: 'recorded: anything-but wildcard number',
    pattern: '{"detail": {"FilePath": [{"anything-but": {"wildcard": 123}}]}}',
    error: err(
      '{"detail": {"FilePath": [{"anything-but": {"wildcard": 123}}]}}',
      'wildcard match pattern must be a string',
      59,
    ),
  },
  {
    name: 'recorded: anything-but suffix number',
    pattern: '{"detail": {"FileName": [{"anything-but": {"suffix": 123}}]}}',
    error: err(
      '{"detail": {"FileName": [{"anything-but": {"suffix": 123}}]}}',
      'prefix/suffix match pattern must be a string',
      57,
    ),
  },
  {
    name: 'recorded: anything-but prefix number',
    pattern: '{"detail": {"state": [{"anything-but": {"prefix": 123}}]}}',
    error: err(
      '{"detail": {"state": [{"anything-but": {"prefix": 123}}]}}',
      'prefix/suffix match pattern must be a string',
      54,
    ),
  },
  {
    name: 'recorded: prefix takes a string (list)',
    pattern: '{"time": [{"prefix": ["2022-07-13"]}]}',
    error: err('{"time": [{"prefix": ["2022-07-13"]}]}', 'prefix match pattern must be a string', 23),
  },
  {
    name: 'recorded: prefix takes a string (number)',
    pattern: '{"time": [{"prefix": 123}]}',
    error: err('{"time": [{"prefix": 123}]}', 'prefix match pattern must be a string', 25),
  },
  {
    name: 'recorded: suffix takes a string (number)',
    pattern: '{"FileName": [{"suffix": 123}]}',
    error: err('{"FileName": [{"suffix": 123}]}', 'suffix match pattern must be a string', 29),
  },
  {
    name: 'recorded: anything-but prefix with equals-ignore-case object',
    pattern: '{"detail": {"FileName": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]}}',
    error: err(
      '{"detail": {"FileName": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]}}',
      'Value of anything-but must be an array or single string/number value.',
      55,
    ),
  },
  {
    name: 'anything-but mixed list',
    pattern: '{"a": [{"anything-but": ["x", 1]}]}',
    error: err(
      '{"a": [{"anything-but": ["x", 1]}]}',
      'Inside anything but list, either all values are number or string, mixed type is not supported',
      33,
    ),
  },
  {
    name: 'anything-but null',
    pattern: '{"a": [{"anything-but": null}]}',
    error: err(
      '{"a": [{"anything-but": null}]}',
      'Value of anything-but must be an array or single string/number value.',
      29,
    ),
  },
  {
    name: 'anything-but unsupported inner operator',
    pattern: '{"a": [{"anything-but": {"numeric": [">", 1]}}]}',
    error: err('{"a": [{"anything-but": {"numeric": [">", 1]}}]}', 'Unsupported anything-but pattern: numeric', 38),
  },
  {
    name: 'anything-but empty prefix',
    pattern: '{"a": [{"anything-but": {"prefix": ""}}]}',
    error: err('{"a": [{"anything-but": {"prefix": ""}}]}', 'Null prefix/suffix not allowed', 38),
  },
  {
    name: 'exists takes a boolean',
    pattern: '{"a": [{"exists": "yes"}]}',
    error: err('{"a": [{"exists": "yes"}]}', 'exists match pattern must be either true or false.', 20),
  },
  {
    name: 'two operators in one expression',
    pattern: '{"a": [{"prefix": "x", "suffix": "y"}]}',
    error: err('{"a": [{"prefix": "x", "suffix": "y"}]}', 'Only one key allowed in match expression', 35),
  },
  {
    name: 'empty match expression',
    pattern: '{"a": [{}]}',
    error: err('{"a": [{}]}', 'Match expression name not found', 10),
  },
  {
    name: 'numeric must be an array',
    pattern: '{"a": [{"numeric": 5}]}',
    error: err('{"a": [{"numeric": 5}]}', 'Value of numeric must be an array.', 21),
  },
  {
    name: 'numeric empty',
    pattern: '{"a": [{"numeric": []}]}',
    error: err('{"a": [{"numeric": []}]}', 'Invalid member in numeric match: ]', 22),
  },
  {
    name: 'numeric operand out of range',
    pattern: '{"a": [{"numeric": [">", 6e9]}]}',
    error: err('{"a": [{"numeric": [">", 6e9]}]}', 'Value must be between -5.0E9 and 5.0E9, inclusive', 30),
  },
  {
    name: 'numeric bottom must be below top',
    pattern: '{"a": [{"numeric": [">", 5, "<", 5]}]}',
    error: err('{"a": [{"numeric": [">", 5, "<", 5]}]}', 'Bottom must be less than top', 36),
  },
  {
    name: 'nested array as match value',
    pattern: '{"a": [["x"]]}',
    error: err('{"a": [["x"]]}', 'Match value must be String, number, true, false, or null', 9),
  },
  {
    name: '$or needs an array',
    pattern: '{"$or": {"a": ["b"]}}',
    error: err('{"$or": {"a": ["b"]}}', 'It must be an Array followed with $or.', 10),
  },
  {
    name: '$or needs two objects',
    pattern: '{"$or": [{"a": ["b"]}]}',
    error: err('{"$or": [{"a": ["b"]}]}', 'There must have at least 2 Objects in $or relationship.', 23),
  },
  {
    name: '$or elements must be objects',
    pattern: '{"$or": ["a", "b"]}',
    error: err('{"$or": ["a", "b"]}', 'Only JSON object is allowed in array of $or relationship.', 11),
  },
  {
    name: 'reserved name inside $or',
    pattern: '{"$or": [{"numeric": ["b"]}, {"c": ["d"]}]}',
    error: err(
      '{"$or": [{"numeric": ["b"]}, {"c": ["d"]}]}',
      'numeric is Ruler reserved fieldName which cannot be used inside $or.',
      23,
    ),
  },
  {
    name: 'invalid wildcard escape',
    pattern: '{"a": [{"wildcard": "a\\\\b"}]}',
    error: err('{"a": [{"wildcard": "a\\\\b"}]}', 'Invalid escape character at pos 2', 27),
  },
  {
    name: 'unterminated object',
    pattern: '{"a": ["b"]',
    error: err(
      '{"a": ["b"]',
      'Unexpected end-of-input: expected close marker for Object (start marker at [Source: (String)"{"a": ["b"]"; line: 1, column: 1])',
      12,
    ),
  },
  { name: 'empty pattern text', pattern: '', error: err('', 'Filter is not an object', 1) },
];

describe('eventbridge: match / no-match', () => runCases('eventbridge', matching));
describe('eventbridge: invalid patterns (InvalidEventPatternException)', () => runCases('eventbridge', errors));
