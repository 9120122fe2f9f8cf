import type { AttributeValue, Item } from '../types.ts';
import { attributeEquals, compareScalars, typeOf } from '../values/attribute.ts';
import { compareNumberStrings } from '../values/numbers.ts';
import type { ExpressionAttributes } from './attributes.ts';
import { bindPath, type DocPath, getPath, Problems, pathStr, valueStr } from './common.ts';
import { type ExpressionKind, type RawNode, syntaxTree } from './syntax.ts';

export type CmpOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

/** A resolved operand: a document path, a value, or size() of an operand. */
export type Operand = { k: 'path'; p: DocPath } | { k: 'val'; v: AttributeValue } | { k: 'size'; a: Operand };

/** A resolved condition, ready to evaluate against items (names and values substituted). */
export type Condition =
  | { k: 'and' | 'or'; list: Condition[] }
  | { k: 'not'; c: Condition }
  | { k: 'cmp'; op: CmpOp; a: Operand; b: Operand }
  | { k: 'between'; a: Operand; lo: Operand; hi: Operand }
  | { k: 'in'; a: Operand; list: Operand[] }
  | { k: 'exists' | 'not_exists'; p: DocPath }
  | { k: 'type'; a: Operand; t: Operand }
  | { k: 'begins_with' | 'contains'; a: Operand; b: Operand }
  | { k: 'true' };

const FUNCTIONS: Record<string, number> = {
  attribute_exists: 1,
  attribute_not_exists: 1,
  attribute_type: 2,
  begins_with: 2,
  contains: 2,
  size: 1,
};
const UPDATE_FUNCTIONS = new Set(['if_not_exists', 'list_append']);
export const MAX_OPERATORS = 300;
const TYPE_NAMES = new Set(['S', 'N', 'B', 'NULL', 'SS', 'BOOL', 'L', 'BS', 'NS', 'M']);
export const MAX_IN_OPERANDS = 100;

/** DynamoDB's ranking of condition errors: the first category present is the one reported. */
const ORDER = [
  'limits',
  'parens',
  'unknownFunction',
  'misused',
  'reserved',
  'nameval',
  'operand',
  'distinct',
  'function',
];

const DUMMY: Operand = { k: 'val', v: { NULL: true } };

class Binder {
  readonly problems = new Problems();
  /** Operators and functions seen (DynamoDB allows at most 300 per expression). */
  operators = 0;
  constructor(private readonly attrs: ExpressionAttributes) {}

  operand(raw: RawNode): Operand {
    if (raw.rp) this.problems.add('parens', 'The expression has redundant parentheses;');
    switch (raw.t) {
      case 'path':
        return { k: 'path', p: bindPath(raw, this.attrs, this.problems) };
      case 'val': {
        const v = this.attrs.value(raw.v);
        if (v === undefined) {
          this.problems.add(
            'nameval',
            `An expression attribute value used in expression is not defined; attribute value: ${raw.v}`,
          );
          return DUMMY;
        }
        return { k: 'val', v };
      }
      case 'fn': {
        if (raw.name !== 'size')
          this.problems.add(
            'misused',
            `The function is not allowed to be used this way in an expression; function: ${raw.name}`,
          );
        const args = this.fnArgs(raw.name, raw.args);
        if (raw.name === 'size' && args) {
          const t = staticType(args[0]);
          if (t === 'N' || t === 'BOOL' || t === 'NULL')
            this.problems.add(
              'function',
              `Incorrect operand type for operator or function; operator or function: size, operand type: ${t}`,
            );
          return { k: 'size', a: args[0] };
        }
        return DUMMY;
      }
      default:
        return DUMMY;
    }
  }

  /** Arguments of a function call; undefined when the function is unknown or the count is wrong. */
  private fnArgs(name: string, rawArgs: RawNode[]): Operand[] | undefined {
    this.operators++;
    const arity = FUNCTIONS[name];
    const args = rawArgs.map((a) => this.operand(a));
    if (arity === undefined) {
      this.problems.add(
        'unknownFunction',
        UPDATE_FUNCTIONS.has(name)
          ? `The function is not allowed in a condition expression; function: ${name}`
          : `Invalid function name; function: ${name}`,
      );
      return undefined;
    }
    if (arity !== args.length) {
      this.problems.add(
        'operand',
        `Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`,
      );
      return undefined;
    }
    this.distinct(name, args);
    return args;
  }

  private distinct(name: string, args: Operand[]): void {
    const [a, b] = args;
    if (args.length !== 2 || a.k !== 'path' || b.k !== 'path' || a.p.length !== b.p.length) return;
    for (let i = 0; i < a.p.length; i++) if (a.p[i] !== b.p[i]) return;
    this.problems.add(
      'distinct',
      `The first operand must be distinct from the remaining operands for this operator or function; operator: ${name}, first operand: ${pathStr(a.p)}`,
    );
  }

  condition(raw: RawNode): Condition {
    if (raw.rp) this.problems.add('parens', 'The expression has redundant parentheses;');
    switch (raw.t) {
      case 'and':
      case 'or':
        this.operators += raw.list.length - 1;
        return { k: raw.t, list: raw.list.map((c) => this.condition(c)) };
      case 'not':
        this.operators++;
        return { k: 'not', c: this.condition(raw.c) };
      case 'cmp': {
        this.operators++;
        const a = this.operand(raw.a);
        const b = this.operand(raw.b);
        this.distinct(raw.op, [a, b]);
        return { k: 'cmp', op: raw.op, a, b };
      }
      case 'between': {
        this.operators++;
        const a = this.operand(raw.a);
        const lo = this.operand(raw.lo);
        const hi = this.operand(raw.hi);
        if (lo.k === 'val' && hi.k === 'val' && lo !== DUMMY && hi !== DUMMY) {
          const tl = typeOf(lo.v);
          const th = typeOf(hi.v);
          const bounds = `lower bound operand: AttributeValue: ${valueStr(lo.v)}, upper bound operand: AttributeValue: ${valueStr(hi.v)}`;
          if (tl !== th)
            this.problems.add(
              'function',
              `The BETWEEN operator requires same data type for lower and upper bounds; ${bounds}`,
            );
          else if ((compareScalars(lo.v, hi.v) ?? 0) > 0)
            this.problems.add(
              'function',
              `The BETWEEN operator requires upper bound to be greater than or equal to lower bound; ${bounds}`,
            );
        }
        return { k: 'between', a, lo, hi };
      }
      case 'in': {
        this.operators++;
        const a = this.operand(raw.a);
        const list = raw.list.map((o) => this.operand(o));
        if (list.length > MAX_IN_OPERANDS)
          this.problems.add(
            'operand',
            `The IN operator is provided with too many operands; number of operands: ${list.length}`,
          );
        return { k: 'in', a, list };
      }
      case 'fn':
        return this.functionCondition(raw.name, raw.args);
      default:
        // A bare operand where a condition belongs cannot come out of the grammar.
        return { k: 'true' };
    }
  }

  private typeError(name: string, type: string): void {
    this.problems.add(
      'function',
      `Incorrect operand type for operator or function; operator or function: ${name}, operand type: ${type}`,
    );
  }

  private functionCondition(name: string, rawArgs: RawNode[]): Condition {
    if (name === 'size')
      this.problems.add('misused', 'The function is not allowed to be used this way in an expression; function: size');
    const args = this.fnArgs(name, rawArgs);
    if (!args) return { k: 'true' };
    switch (name) {
      case 'attribute_exists':
      case 'attribute_not_exists': {
        const a = args[0];
        if (a.k !== 'path') {
          this.problems.add('function', `Operator or function requires a document path; operator or function: ${name}`);
          return { k: 'true' };
        }
        return { k: name === 'attribute_exists' ? 'exists' : 'not_exists', p: a.p };
      }
      case 'attribute_type': {
        const t = args[1];
        const st = staticType(t);
        if (st !== 'S') this.typeError(name, st ?? '{NS,SS,L,BS,N,M,B,BOOL,NULL,S}');
        else if (t.k === 'val' && !TYPE_NAMES.has(t.v.S as string))
          this.problems.add(
            'function',
            `Invalid attribute type name found; type: ${t.v.S}, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}`,
          );
        return { k: 'type', a: args[0], t };
      }
      case 'begins_with': {
        for (const a of args) {
          const t = staticType(a);
          if (t && t !== 'S' && t !== 'B') {
            this.typeError(name, t);
            break;
          }
        }
        return { k: 'begins_with', a: args[0], b: args[1] };
      }
      case 'contains':
        return { k: 'contains', a: args[0], b: args[1] };
      default:
        return { k: 'true' };
    }
  }
}

/** The type an operand is known to have before any item is seen (values and size()). */
function staticType(o: Operand): string | undefined {
  if (o.k === 'val') return o === DUMMY ? undefined : typeOf(o.v);
  if (o.k === 'size') return 'N';
  return undefined;
}

/** Check and resolve a syntax tree as a condition; throws DynamoDB's first error. */
export function bindCondition(raw: RawNode, attrs: ExpressionAttributes, kind: ExpressionKind): Condition {
  const b = new Binder(attrs);
  const c = b.condition(raw);
  if (b.operators > MAX_OPERATORS)
    b.problems.add('limits', `The expression contains too many operators; operator count: ${b.operators}`);
  b.problems.throwFirst(kind, ORDER);
  return c;
}

/** Parse a ConditionExpression or FilterExpression (syntax cached by text). */
export function parseCondition(
  expr: string,
  attrs: ExpressionAttributes,
  kind: 'ConditionExpression' | 'FilterExpression' = 'ConditionExpression',
): Condition {
  return bindCondition(syntaxTree(expr, 'Condition', kind), attrs, kind);
}

// ------------------------------------------------------------------ evaluation

function resolve(o: Operand, item: Item | undefined): AttributeValue | undefined {
  if (o.k === 'val') return o.v;
  if (o.k === 'path') return getPath(item, o.p);
  const v = resolve(o.a, item);
  if (v === undefined) return undefined;
  const n = sizeOf(v);
  return n === undefined ? undefined : { N: String(n) };
}

/** size(): string length, binary bytes, element count of sets, lists and maps. */
function sizeOf(v: AttributeValue): number | undefined {
  if (v.S !== undefined) return v.S.length;
  if (v.B !== undefined) return Buffer.from(v.B, 'base64').length;
  if (v.SS !== undefined) return v.SS.length;
  if (v.NS !== undefined) return v.NS.length;
  if (v.BS !== undefined) return v.BS.length;
  if (v.L !== undefined) return v.L.length;
  if (v.M !== undefined) return Object.keys(v.M).length;
  return undefined;
}

function compare(op: CmpOp, a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (op === '=') return a !== undefined && b !== undefined && attributeEquals(a, b);
  if (op === '<>') {
    if (a === undefined && b === undefined) return false;
    return a === undefined || b === undefined || !attributeEquals(a, b);
  }
  if (a === undefined || b === undefined) return false;
  const c = compareScalars(a, b);
  if (c === undefined) return false;
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    default:
      return c >= 0;
  }
}

function beginsWith(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (a.S !== undefined) return b.S !== undefined && a.S.startsWith(b.S);
  if (a.B !== undefined && b.B !== undefined) {
    const x = Buffer.from(a.B, 'base64');
    const y = Buffer.from(b.B, 'base64');
    return y.length <= x.length && x.subarray(0, y.length).equals(y);
  }
  return false;
}

/** contains(): substring, binary subsequence, set membership or list element equality. */
export function containsValue(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (a.S !== undefined) return b.S !== undefined && a.S.includes(b.S);
  if (a.B !== undefined) return b.B !== undefined && Buffer.from(a.B, 'base64').includes(Buffer.from(b.B, 'base64'));
  if (a.SS !== undefined) return b.S !== undefined && a.SS.includes(b.S);
  if (a.NS !== undefined) {
    const n = b.N;
    return n !== undefined && a.NS.some((x) => x === n || compareNumberStrings(x, n) === 0);
  }
  if (a.BS !== undefined) {
    if (b.B === undefined) return false;
    const y = Buffer.from(b.B, 'base64');
    return a.BS.some((x) => Buffer.from(x, 'base64').equals(y));
  }
  if (a.L !== undefined) return a.L.some((x) => attributeEquals(x, b));
  return false;
}

/** Evaluate a condition against an item (undefined = no item: every path is absent). */
export function evaluateCondition(c: Condition, item: Item | undefined): boolean {
  switch (c.k) {
    case 'and':
      for (const x of c.list) if (!evaluateCondition(x, item)) return false;
      return true;
    case 'or':
      for (const x of c.list) if (evaluateCondition(x, item)) return true;
      return false;
    case 'not':
      return !evaluateCondition(c.c, item);
    case 'cmp':
      return compare(c.op, resolve(c.a, item), resolve(c.b, item));
    case 'between': {
      const a = resolve(c.a, item);
      if (a === undefined) return false;
      const lo = resolve(c.lo, item);
      const hi = resolve(c.hi, item);
      if (lo === undefined || hi === undefined) return false;
      const x = compareScalars(a, lo);
      const y = compareScalars(a, hi);
      return x !== undefined && y !== undefined && x >= 0 && y <= 0;
    }
    case 'in': {
      const a = resolve(c.a, item);
      if (a === undefined) return false;
      for (const o of c.list) {
        const v = resolve(o, item);
        if (v !== undefined && attributeEquals(a, v)) return true;
      }
      return false;
    }
    case 'exists':
      return getPath(item, c.p) !== undefined;
    case 'not_exists':
      return getPath(item, c.p) === undefined;
    case 'type': {
      const a = resolve(c.a, item);
      const t = resolve(c.t, item);
      return a !== undefined && t?.S !== undefined && typeOf(a) === t.S;
    }
    case 'begins_with':
      return beginsWith(resolve(c.a, item), resolve(c.b, item));
    case 'contains':
      return containsValue(resolve(c.a, item), resolve(c.b, item));
    case 'true':
      return true;
  }
}
