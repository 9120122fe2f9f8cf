/**
 * Compiles an event pattern / filter policy / filter criteria pattern into branches of field tests.
 *
 * The walk mirrors event-ruler's JsonRuleCompiler token by token (see jackson.ts) so that the first
 * error found, its reason text and its reported location are the ones AWS gives. Dialects differ in
 * which operators they accept and in post-parse limits:
 * - eventbridge: every operator (prefix/suffix with equals-ignore-case, anything-but with
 *   prefix/suffix/equals-ignore-case/wildcard, wildcard, cidr, numeric, exists, $or).
 * - lambda (event source mapping FilterCriteria, same engine as EventBridge Pipes): no `wildcard` and no
 *   `anything-but` object forms (AWS lists them as unsupported for pipes/filters); any error surfaces as
 *   `InvalidParameterValueException: Invalid filter pattern definition.`
 * - sns-attributes / sns-body: SNS's engine has no `wildcard`, no `exactly`, no equals-ignore-case
 *   forms of prefix/suffix, and `anything-but` objects only with `prefix`/`suffix`; plus
 *   attribute scope rejects nesting, at most 5 keys per branch, at most 150 combinations.
 */
import { PatternError } from './errors.ts';
import { cidrRange, ipHexIfPossible } from './ip.ts';
import { JacksonParser, JsonSyntaxError, type Token } from './jackson.ts';
import { checkOperand, fixed, type NumericModel, numericModel } from './numbers.ts';
import type { Branch, CompiledPattern, Dialect, Field, Predicate, Scalar } from './types.ts';

type Value = { kind: 'pred'; fn: Predicate } | { kind: 'exists'; present: boolean };
type Rule = Map<string, Value[]>;

const RESERVED_IN_OR = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  'html',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

const SNS_MAX_KEYS = 5;
const SNS_MAX_COMBINATIONS = 150;

const isNumberToken = (t: Token | null) => t === 'VALUE_NUMBER_INT' || t === 'VALUE_NUMBER_FLOAT';
const lower = (s: string) => s.toLowerCase();

class Compiler {
  private readonly p: JacksonParser;
  private readonly num: NumericModel;
  private readonly sns: boolean;
  /** Max nesting depth of each leaf path (for SNS complexity). */
  readonly depth = new Map<string, number>();
  nested = false;

  constructor(
    source: string,
    private readonly dialect: Dialect,
  ) {
    this.p = new JacksonParser(source);
    this.num = numericModel(dialect);
    this.sns = dialect === 'sns-attributes' || dialect === 'sns-body';
  }

  /** Throws at the parser's current location (event-ruler's `barf`). */
  private barf(reason: string): never {
    throw new PatternError(reason, this.p.location());
  }

  /** A barf inside one of event-ruler's `catch (IOException e) { barf(parser, e.getMessage()) }` blocks. */
  private barfTwice(reason: string): never {
    const loc = this.p.location();
    throw new PatternError(reason, loc + loc);
  }

  compile(): Rule[] {
    const rules: Rule[] = [];
    if (this.p.nextToken() !== 'START_OBJECT') this.barf('Filter is not an object');
    this.parseObject(rules, [], false);
    return rules;
  }

  private parseObject(rules: Rule[], path: string[], insideOr: boolean): void {
    const p = this.p;
    let fieldsPresent = false;
    while (p.nextToken() !== 'END_OBJECT') {
      fieldsPresent = true;
      const step = p.getCurrentName();
      if (step === '$or') {
        this.parseOr(rules, path);
        continue;
      }
      if (insideOr && RESERVED_IN_OR.has(step)) {
        this.barf(`${step} is Ruler reserved fieldName which cannot be used inside $or.`);
      }
      switch (p.nextToken()) {
        case 'START_OBJECT':
          this.nested = true;
          path.push(step);
          this.parseObject(rules, path, insideOr);
          path.pop();
          break;
        case 'START_ARRAY':
          this.writeRules(rules, path.length === 0 ? step : `${path.join('.')}.${step}`, path.length + 1);
          break;
        default:
          this.barf(`"${step}" must be an object or an array`);
      }
    }
    if (!fieldsPresent) this.barf('Empty objects are not allowed');
  }

  private parseOr(rules: Rule[], path: string[]): void {
    const p = this.p;
    const current = rules.map((r) => new Map(r));
    rules.length = 0;
    if (p.nextToken() !== 'START_ARRAY') this.barf('It must be an Array followed with $or.');
    let count = 0;
    let tok: Token | null;
    while ((tok = p.nextToken()) !== 'END_ARRAY') {
      count++;
      if (tok !== 'START_OBJECT') this.barf('Only JSON object is allowed in array of $or relationship.');
      const fork = current.map((r) => new Map(r));
      if (fork.length === 0) fork.push(new Map());
      this.parseObject(fork, path, true);
      rules.push(...fork);
    }
    if (count < 2) this.barf('There must have at least 2 Objects in $or relationship.');
  }

  private writeRules(rules: Rule[], name: string, depth: number): void {
    const p = this.p;
    const values: Value[] = [];
    let tok: Token | null;
    while ((tok = p.nextToken()) !== 'END_ARRAY') {
      switch (tok) {
        case 'START_OBJECT':
          values.push(this.matchExpression());
          break;
        case 'VALUE_STRING':
          values.push({ kind: 'pred', fn: exactString(p.getText()) });
          break;
        case 'VALUE_NUMBER_INT':
        case 'VALUE_NUMBER_FLOAT':
          values.push({ kind: 'pred', fn: exactNumber(this.num, Number(p.getText())) });
          break;
        case 'VALUE_NULL':
          values.push({ kind: 'pred', fn: (v) => v === null });
          break;
        case 'VALUE_TRUE':
          values.push({ kind: 'pred', fn: (v) => v === true });
          break;
        case 'VALUE_FALSE':
          values.push({ kind: 'pred', fn: (v) => v === false });
          break;
        default:
          this.barf('Match value must be String, number, true, false, or null');
      }
    }
    if (values.length === 0) this.barf('Empty arrays are not allowed');
    if (rules.length === 0) rules.push(new Map());
    for (const rule of rules) rule.set(name, values);
    this.depth.set(name, Math.max(this.depth.get(name) ?? 0, depth));
  }

  private expectString(message: string): string {
    if (this.p.nextToken() !== 'VALUE_STRING') this.barf(message);
    return this.p.getText();
  }

  private endOfExpression(): void {
    if (this.p.nextToken() !== 'END_OBJECT') this.barf('Only one key allowed in match expression');
  }

  private matchExpression(): Value {
    const p = this.p;
    if (p.nextToken() !== 'FIELD_NAME') this.barf('Match expression name not found');
    const op = p.getCurrentName();
    switch (op) {
      case 'exactly': {
        if (this.sns) break;
        const s = this.expectString('exact match pattern must be a string');
        this.endOfExpression();
        return { kind: 'pred', fn: (v) => v === s };
      }
      case 'prefix':
      case 'suffix': {
        const tok = p.nextToken();
        if (tok === 'START_OBJECT' && !this.sns) return this.affixIgnoreCase(op);
        if (tok !== 'VALUE_STRING') this.barf(`${op} match pattern must be a string`);
        const s = p.getText();
        this.endOfExpression();
        return {
          kind: 'pred',
          fn:
            op === 'prefix'
              ? (v) => typeof v === 'string' && v.startsWith(s)
              : (v) => typeof v === 'string' && v.endsWith(s),
        };
      }
      case 'numeric': {
        if (p.nextToken() !== 'START_ARRAY') this.barf('Value of numeric must be an array.');
        const fn = this.numeric();
        if (p.nextToken() !== 'END_OBJECT') this.barf('Too many elements in numeric expression');
        return { kind: 'pred', fn };
      }
      case 'anything-but':
        return { kind: 'pred', fn: this.anythingBut() };
      case 'exists': {
        const tok = p.nextToken();
        if (tok !== 'VALUE_TRUE' && tok !== 'VALUE_FALSE')
          this.barf('exists match pattern must be either true or false.');
        this.endOfExpression();
        return { kind: 'exists', present: tok === 'VALUE_TRUE' };
      }
      case 'cidr': {
        const s = this.expectString('prefix match pattern must be a string');
        const { lo, hi } = cidrRange(s);
        this.endOfExpression();
        return { kind: 'pred', fn: inRange(lo, hi) };
      }
      case 'equals-ignore-case': {
        const s = lower(this.expectString('equals-ignore-case match pattern must be a string'));
        this.endOfExpression();
        return { kind: 'pred', fn: (v) => typeof v === 'string' && lower(v) === s };
      }
      case 'wildcard': {
        if (this.sns || this.dialect === 'lambda') break;
        const s = this.expectString('wildcard match pattern must be a string');
        const re = this.wildcard(s);
        this.endOfExpression();
        return { kind: 'pred', fn: (v) => typeof v === 'string' && re.test(v) };
      }
    }
    this.barf(`Unrecognized match type ${op}`);
  }

  /** `{"prefix": {"equals-ignore-case": "x"}}` and the suffix form. */
  private affixIgnoreCase(op: 'prefix' | 'suffix'): Value {
    const p = this.p;
    const Op = op === 'prefix' ? 'Prefix' : 'Suffix';
    if (p.nextToken() !== 'FIELD_NAME') this.barf(`${Op} expression name not found`);
    const inner = p.getCurrentName();
    if (inner !== 'equals-ignore-case') this.barf(`Unsupported ${op} pattern: ${inner}`);
    const s = lower(this.expectString('equals-ignore-case match pattern must be a string'));
    this.endOfExpression();
    this.endOfExpression();
    return {
      kind: 'pred',
      fn:
        op === 'prefix'
          ? (v) => typeof v === 'string' && lower(v).startsWith(s)
          : (v) => typeof v === 'string' && lower(v).endsWith(s),
    };
  }

  /** Parses the numeric array after its `[`; returns the range test. */
  private numeric(): Predicate {
    const p = this.p;
    let tok = p.nextToken();
    if (tok !== 'VALUE_STRING') this.barf(`Invalid member in numeric match: ${p.getText()}`);
    const op = p.getText();
    tok = p.nextToken();
    switch (op) {
      case '=': {
        if (!isNumberToken(tok)) this.barf('Value of equals must be numeric');
        const v = Number(p.getText());
        if (p.nextToken() !== 'END_ARRAY') this.barf('Too many elements in numeric expression');
        this.operand(v);
        return this.range(v, false, v, false);
      }
      case '>=':
      case '>': {
        if (!isNumberToken(tok)) this.barf(`Value of ${op} must be numeric`);
        const bottom = Number(p.getText());
        tok = p.nextToken();
        if (tok === 'END_ARRAY') {
          this.operand(bottom);
          return this.range(bottom, op === '>', Number.POSITIVE_INFINITY, false);
        }
        if (tok !== 'VALUE_STRING') this.barf(`Bad value in numeric range: ${p.getText()}`);
        const op2 = p.getText();
        if (op2 !== '<' && op2 !== '<=') this.barf(`Bad numeric range operator: ${op2}`);
        if (!isNumberToken(p.nextToken())) this.barf(`Value of ${op2} must be numeric`);
        const top = Number(p.getText());
        if (p.nextToken() !== 'END_ARRAY') this.barf('Too many terms in numeric range expression');
        this.operand(bottom);
        this.operand(top);
        if (bottom >= top) this.barf('Bottom must be less than top');
        return this.range(bottom, op === '>', top, op2 === '<');
      }
      case '<=':
      case '<': {
        if (!isNumberToken(tok)) this.barf(`Value of ${op} must be numeric`);
        const top = Number(p.getText());
        if (p.nextToken() !== 'END_ARRAY') this.barf('Too many elements in numeric expression');
        this.operand(top);
        return this.range(Number.NEGATIVE_INFINITY, false, top, op === '<');
      }
      default:
        this.barf(`Unrecognized numeric range operator: ${op}`);
    }
  }

  private operand(x: number): void {
    const err = checkOperand(x);
    if (err) this.barf(err);
  }

  private range(lo: number, loOpen: boolean, hi: number, hiOpen: boolean): Predicate {
    const m = this.num;
    const flo = lo === Number.NEGATIVE_INFINITY ? Number.NEGATIVE_INFINITY : Math.round(lo * m.scale);
    const fhi = hi === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.round(hi * m.scale);
    return (v) => {
      if (typeof v !== 'number') return false;
      const f = fixed(m, v);
      if (Number.isNaN(f)) return false;
      return (loOpen ? f > flo : f >= flo) && (hiOpen ? f < fhi : f <= fhi);
    };
  }

  private anythingBut(): Predicate {
    const p = this.p;
    let kind: 'plain' | 'equals-ignore-case' | 'prefix' | 'suffix' | 'wildcard' = 'plain';
    let tok = p.nextToken();
    if (tok === 'START_OBJECT') {
      if (p.nextToken() !== 'FIELD_NAME') this.barf('Anything-But expression name not found');
      const inner = p.getCurrentName();
      const allowed =
        this.dialect === 'eventbridge'
          ? inner === 'equals-ignore-case' || inner === 'prefix' || inner === 'suffix' || inner === 'wildcard'
          : this.sns && (inner === 'prefix' || inner === 'suffix');
      if (!allowed) this.barf(`Unsupported anything-but pattern: ${inner}`);
      kind = inner as typeof kind;
      tok = p.nextToken();
    }
    if (tok !== 'START_ARRAY' && tok !== 'VALUE_STRING' && !isNumberToken(tok)) {
      this.barf('Value of anything-but must be an array or single string/number value.');
    }
    let fn: Predicate;
    if (kind === 'plain') fn = tok === 'START_ARRAY' ? this.anythingButList() : this.anythingButSingle(tok);
    else fn = this.anythingButSet(kind, tok === 'START_ARRAY');
    if (p.nextToken() !== 'END_OBJECT') this.barf('Too many elements in numeric expression');
    if (kind !== 'plain' && p.nextToken() !== 'END_OBJECT') this.barf('Too many elements in numeric expression');
    return fn;
  }

  private anythingButList(): Predicate {
    const p = this.p;
    const strings = new Set<string>();
    const numbers: number[] = [];
    let tok: Token | null;
    while ((tok = p.nextToken()) !== 'END_ARRAY') {
      if (tok === 'VALUE_STRING') strings.add(p.getText());
      else if (isNumberToken(tok)) {
        const x = Number(p.getText());
        const err = checkOperand(x);
        if (err) this.barf(err);
        numbers.push(x);
      } else this.barfTwice('Inside anything but list, start|null|boolean is not supported.');
    }
    if (strings.size > 0 === numbers.length > 0) {
      this.barf('Inside anything but list, either all values are number or string, mixed type is not supported');
    }
    return strings.size > 0 ? notStrings(strings) : notNumbers(this.num, numbers);
  }

  private anythingButSingle(tok: Token | null): Predicate {
    const p = this.p;
    if (tok === 'VALUE_STRING') return notStrings(new Set([p.getText()]));
    const x = Number(p.getText());
    const err = checkOperand(x);
    if (err) throw new PatternError(err);
    return notNumbers(this.num, [x]);
  }

  private anythingButSet(kind: 'equals-ignore-case' | 'prefix' | 'suffix' | 'wildcard', list: boolean): Predicate {
    const p = this.p;
    const typeError =
      kind === 'equals-ignore-case'
        ? 'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.'
        : kind === 'wildcard'
          ? 'wildcard match pattern must be a string'
          : 'prefix/suffix match pattern must be a string';
    const values: string[] = [];
    const take = (twice: boolean) => {
      const text = p.getText();
      if ((kind === 'prefix' || kind === 'suffix') && text === '') {
        if (twice) this.barfTwice('Null prefix/suffix not allowed');
        this.barf('Null prefix/suffix not allowed');
      }
      values.push(text);
    };
    if (list) {
      if (this.sns) this.barf(typeError);
      let tok: Token | null;
      while ((tok = p.nextToken()) !== 'END_ARRAY') {
        if (tok === 'VALUE_STRING') take(true);
        else this.barfTwice(typeError);
      }
    } else if (p.currentToken === 'VALUE_STRING') take(false);
    else this.barf(typeError);
    switch (kind) {
      case 'equals-ignore-case': {
        const set = new Set(values.map(lower));
        return (v) => typeof v !== 'string' || !set.has(lower(v));
      }
      case 'prefix':
        return (v) => typeof v !== 'string' || !values.some((s) => v.startsWith(s));
      case 'suffix':
        return (v) => typeof v !== 'string' || !values.some((s) => v.endsWith(s));
      case 'wildcard': {
        const res = values.map((s) => this.wildcard(s));
        return (v) => typeof v !== 'string' || !res.some((re) => re.test(v));
      }
    }
  }

  /**
   * event-ruler's WildcardParser: `*` matches any run of characters, `\*` and `\\` are literals, any
   * other backslash is an error; positions count UTF-8 bytes of the value with its surrounding quotes.
   */
  private wildcard(s: string): RegExp {
    const chars = Array.from(s);
    let re = '^';
    let pos = 1; // the leading quote
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i];
      if (ch === '*') {
        if (chars[i + 1] === '*') this.barf(`Consecutive wildcard characters at pos ${pos}`);
        re += '[\\s\\S]*';
      } else if (ch === '\\') {
        const next = chars[i + 1];
        if (next !== '*' && next !== '\\') this.barf(`Invalid escape character at pos ${pos}`);
        re += `\\${next}`;
        i++;
        pos++;
      } else {
        re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      }
      pos += Buffer.byteLength(ch, 'utf8');
    }
    return new RegExp(`${re}$`, 'u');
  }
}

function exactString(s: string): Predicate {
  const hex = ipHexIfPossible(s);
  if (hex === undefined) return (v) => v === s;
  // event-ruler matches an IP literal by its address, so "2001:db8::1" equals "2001:0db8:0::1".
  return (v) => v === s || (typeof v === 'string' && ipHexIfPossible(v) === hex);
}

function exactNumber(m: NumericModel, n: number): Predicate {
  const fn = fixed(m, n);
  if (Number.isNaN(fn)) return (v) => v === n;
  return (v) => v === n || (typeof v === 'number' && fixed(m, v) === fn);
}

function notStrings(set: Set<string>): Predicate {
  return (v) => typeof v !== 'string' || !set.has(v);
}

function notNumbers(m: NumericModel, xs: number[]): Predicate {
  const fs = xs.map((x) => fixed(m, x));
  return (v) => {
    if (typeof v !== 'number') return true;
    const f = fixed(m, v);
    for (let i = 0; i < xs.length; i++) if (v === xs[i] || f === fs[i]) return false;
    return true;
  };
}

function inRange(lo: string, hi: string): Predicate {
  return (v: Scalar) => {
    if (typeof v !== 'string') return false;
    const hex = ipHexIfPossible(v);
    return hex !== undefined && hex.length === lo.length && hex >= lo && hex <= hi;
  };
}

function toField(path: string, values: Value[]): Field {
  const segs = path.split('.');
  const n = segs.length;
  const keys: string[][] = [];
  for (let i = 0; i < n; i++) {
    const row: string[] = [];
    for (let j = 0; j < n; j++) row.push(j < i ? '' : segs.slice(i, j + 1).join('.'));
    keys.push(row);
  }
  const preds: Predicate[] = [];
  let absent = false;
  for (const v of values) {
    if (v.kind === 'pred') preds.push(v.fn);
    else if (v.present) preds.push(() => true);
    else absent = true;
  }
  return { path, n, keys, preds, absent };
}

/**
 * Compiles a pattern. Strings are compiled as given (error locations refer to them); objects are
 * serialized with JSON.stringify first. Throws PatternError (format it with formatPatternError).
 */
export function compilePattern(pattern: string | object, dialect: Dialect): CompiledPattern {
  let source: string;
  if (typeof pattern === 'string') source = pattern;
  else {
    try {
      source = JSON.stringify(pattern) ?? '';
    } catch {
      throw new PatternError('Filter is not valid JSON');
    }
  }
  const c = new Compiler(source, dialect);
  let rules: Rule[];
  try {
    rules = c.compile();
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      if (dialect === 'sns-attributes' || dialect === 'sns-body') {
        throw new PatternError(`failed to parse JSON. ${e.reason}`, e.location);
      }
      throw new PatternError(e.reason, e.location);
    }
    throw e;
  }
  if (dialect === 'sns-attributes' && c.nested) {
    throw new PatternError('Filter policy scope MessageAttributes does not support nested filter policy', '', true);
  }
  if (dialect === 'sns-attributes' || dialect === 'sns-body') {
    let combinations = 0;
    for (const rule of rules) {
      if (rule.size > SNS_MAX_KEYS) throw new PatternError('Filter policy can not have more than 5 keys');
      let product = 1;
      for (const [name, values] of rule) product *= values.length * (c.depth.get(name) ?? 1);
      combinations += product;
    }
    if (combinations > SNS_MAX_COMBINATIONS) throw new PatternError('Filter policy is too complex');
  }
  const branches: Branch[] = rules.map((rule) => [...rule].map(([path, values]) => toField(path, values)));
  return { dialect, source, branches };
}
