// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are Fn::Sub templates
import { describe, expect, it } from 'vitest';
import { writeZip } from '../../core/zip.ts';
import { createAwsCall } from '../../integrations/aws-call.ts';
import { NO_VALUE, resolve, type Scope } from './intrinsics.ts';
import { dependencies, parseTemplate, references, topoOrder } from './template.ts';

const scope = (template: any, params: Record<string, string | string[]> = {}): Scope => ({
  template,
  params,
  pseudo: { accountId: '123456789012', region: 'eu-west-1', stackName: 's', stackId: 'arn:stack' },
  ref: (id) => `phys-${id}`,
  getAtt: (id, attr) => `${id}.${attr}`,
  importValue: (name) => `imported-${name}`,
});

describe('YAML short forms', () => {
  it('expands every form on scalars, sequences and maps', () => {
    const t = parseTemplate(`
Resources:
  A:
    Type: AWS::SQS::Queue
    Properties:
      One: !Ref B
      Two: !GetAtt B.Arn
      Three: !GetAtt [B, Arn]
      Four: !Sub
        - '\${x}-\${AWS::Region}'
        - x: !Ref B
      Five: !Join ['', [!Select [0, !GetAZs ''], !Base64 abc]]
      Six: !If [C, !ImportValue e, !Ref AWS::NoValue]
      Seven: !FindInMap [M, !Ref AWS::Region, k]
  B:
    Type: AWS::SQS::Queue
Conditions:
  C: !Not [!Equals [!Ref AWS::Region, us-east-1]]
Mappings:
  M: {eu-west-1: {k: v}}
`);
    expect(t.Resources.A.Properties).toEqual({
      One: { Ref: 'B' },
      Two: { 'Fn::GetAtt': ['B', 'Arn'] },
      Three: { 'Fn::GetAtt': ['B', 'Arn'] },
      Four: { 'Fn::Sub': ['${x}-${AWS::Region}', { x: { Ref: 'B' } }] },
      Five: { 'Fn::Join': ['', [{ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }, { 'Fn::Base64': 'abc' }]] },
      Six: { 'Fn::If': ['C', { 'Fn::ImportValue': 'e' }, { Ref: 'AWS::NoValue' }] },
      Seven: { 'Fn::FindInMap': ['M', { Ref: 'AWS::Region' }, 'k'] },
    });
    expect(resolve(t.Resources.A.Properties, scope(t))).toEqual({
      One: 'phys-B',
      Two: 'B.Arn',
      Three: 'B.Arn',
      Four: 'phys-B-eu-west-1',
      Five: `eu-west-1a${Buffer.from('abc').toString('base64')}`,
      Six: 'imported-e',
      Seven: 'v',
    });
  });
});

describe('intrinsics', () => {
  const t = { Resources: { R: { Type: 'X' } }, Conditions: { No: { 'Fn::Equals': ['a', 'b'] } } };
  it('drops AWS::NoValue from objects and lists', () => {
    expect(resolve({ a: { Ref: 'AWS::NoValue' }, b: [1, { Ref: 'AWS::NoValue' }, 2] }, scope(t))).toEqual({
      b: [1, 2],
    });
    expect(resolve({ 'Fn::If': ['No', 'x', { Ref: 'AWS::NoValue' }] }, scope(t))).toBe(NO_VALUE);
  });
  it('Fn::Sub: literals, attributes, lists joined by commas, escaped ${!x}', () => {
    expect(resolve({ 'Fn::Sub': '${R.Arn}/${L}/${!Keep}/${AWS::Partition}' }, scope(t, { L: ['a', 'b'] }))).toBe(
      'R.Arn/a,b/${Keep}/aws',
    );
  });
  it('Fn::Split, Fn::Select bounds, Fn::Equals on numbers and strings', () => {
    expect(resolve({ 'Fn::Split': ['|', 'a|b'] }, scope(t))).toEqual(['a', 'b']);
    expect(() => resolve({ 'Fn::Select': [5, ['a']] }, scope(t))).toThrow(/cannot select nonexistent value at index 5/);
    expect(resolve({ 'Fn::Equals': [1, '1'] }, scope(t))).toBe(true);
  });
});

describe('dependencies', () => {
  it('come from Ref, GetAtt, Sub (minus its variables) and DependsOn; cycles are refused', () => {
    const sub = { 'Fn::Sub': ['${A}-${B.Arn}-${v}', { v: { Ref: 'P' } }] };
    expect([...references(sub)].sort()).toEqual(['A', 'B', 'P']);
    const t = parseTemplate(
      JSON.stringify({
        Parameters: { P: { Type: 'String' } },
        Resources: {
          A: { Type: 'X' },
          B: { Type: 'X', DependsOn: 'A' },
          C: { Type: 'X', Properties: { v: sub } },
        },
      }),
    );
    const deps = dependencies(t);
    expect(topoOrder(['C', 'B', 'A'], deps)).toEqual(['A', 'B', 'C']);
    deps.get('A')!.add('C');
    expect(() => topoOrder(['A', 'B', 'C'], deps)).toThrow('Circular dependency between resources: [A, C]');
  });
});

describe('aws-call', () => {
  it('validates with the model and coerces template values to its types', async () => {
    const seen: unknown[] = [];
    const call = createAwsCall({
      sqs: {
        model: 'sqs',
        operations: {
          CreateQueue: (input) => {
            seen.push(input);
            return { QueueUrl: 'u' };
          },
        },
      },
      lambda: { model: 'lambda', operations: { Invoke: (input) => input } },
    });
    const ctx = {
      requestId: 'r',
      accountId: '1',
      region: 'us-east-1',
      service: 'x',
      operation: 'y',
      clock: undefined as never,
      endpoint: '',
    };
    expect(
      await call.call('sqs', 'CreateQueue', { QueueName: 'q', Attributes: { DelaySeconds: 5 as never } }, ctx),
    ).toEqual({
      QueueUrl: 'u',
    });
    expect(seen[0]).toEqual({ QueueName: 'q', Attributes: { DelaySeconds: '5' } });
    await expect(call.call('sqs', 'CreateQueue', {}, ctx)).rejects.toThrow(/Value null at 'queueName'/);
    const out = await call.call('lambda', 'Invoke', { FunctionName: 'f', Payload: Buffer.from('{}') }, ctx);
    expect(Buffer.isBuffer(out.Payload)).toBe(true);
    expect(call.has('sqs', 'CreateQueue')).toBe(true);
    expect(call.has('kinesis')).toBe(false);
  });
});

describe('zip', () => {
  it('writes a zip the standard tools read', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'eddy-zip-'));
    try {
      const file = join(dir, 'a.zip');
      writeFileSync(file, writeZip([{ name: 'index.js', data: Buffer.from('exports.x = 1;\n') }]));
      let listing = '';
      try {
        listing = execFileSync(
          'python3',
          ['-c', `import zipfile;z=zipfile.ZipFile('${file}');print(z.read('index.js').decode())`],
          {
            encoding: 'utf8',
          },
        );
      } catch {
        return; // no python3: nothing to compare with
      }
      expect(listing.trim()).toBe('exports.x = 1;');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('interrupted operations', () => {
  it('leave the stack in the terminal status AWS would show', async () => {
    const { interruptedStatus } = await import('./engine.ts');
    expect(interruptedStatus('CREATE_IN_PROGRESS')).toBe('CREATE_FAILED');
    expect(interruptedStatus('UPDATE_IN_PROGRESS')).toBe('UPDATE_ROLLBACK_FAILED');
    expect(interruptedStatus('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS')).toBe('UPDATE_COMPLETE');
    expect(interruptedStatus('DELETE_IN_PROGRESS')).toBe('DELETE_FAILED');
  });
});
