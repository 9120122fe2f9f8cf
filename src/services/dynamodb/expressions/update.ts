import { validation } from '../../../core/errors.ts';
import type { AttributeValue, Item } from '../types.ts';
import { cloneValue, typeOf } from '../values/attribute.ts';
import { addDecimal, type Decimal, formatDecimal, negate, parseDecimalLoose, ZERO } from '../values/numbers.ts';
import type { ExpressionAttributes } from './attributes.ts';
import { bindPath, checkPathOverlap, type DocPath, getPath, own, Problems } from './common.ts';
import type { Projection } from './projection.ts';
import { type RawNode, type RawSection, syntaxTree } from './syntax.ts';

/** The right-hand side of a SET action. */
export type UpdateValue =
  | { k: 'path'; p: DocPath }
  | { k: 'val'; v: AttributeValue }
  | { k: 'arith'; op: '+' | '-'; a: UpdateValue; b: UpdateValue }
  | { k: 'if_not_exists'; p: DocPath; d: UpdateValue }
  | { k: 'list_append'; a: UpdateValue; b: UpdateValue };

export type UpdateAction =
  | { k: 'SET'; p: DocPath; v: UpdateValue }
  | { k: 'REMOVE'; p: DocPath }
  | { k: 'ADD' | 'DELETE'; p: DocPath; v: AttributeValue };

/** A resolved update: its actions in the order written. */
export interface Update {
  actions: UpdateAction[];
  /** From legacy AttributeUpdates: ADD also appends lists, type errors use the legacy text. */
  legacy?: boolean;
}

const ORDER = [
  'limits',
  'reserved',
  'unknownFunction',
  'section',
  'name',
  'value',
  'overlap',
  'conflict',
  'operand',
  'function',
];
const FUNCTIONS: Record<string, number> = { if_not_exists: 2, list_append: 2 };
const CONDITION_FUNCTIONS = new Set([
  'attribute_exists',
  'attribute_not_exists',
  'attribute_type',
  'begins_with',
  'contains',
  'size',
]);
const TYPE_WORDS: Record<string, string> = {
  S: 'STRING',
  N: 'NUMBER',
  B: 'BINARY',
  NULL: 'NULL',
  BOOL: 'BOOLEAN',
  L: 'LIST',
  M: 'MAP',
};
const DUMMY_VALUE: AttributeValue = { NULL: true };

class UpdateBinder {
  readonly problems = new Problems();
  constructor(private readonly attrs: ExpressionAttributes) {}

  path(raw: RawNode): DocPath {
    return raw.t === 'path' ? bindPath(raw, this.attrs, this.problems, 'name') : [];
  }

  value(ref: string): AttributeValue {
    const v = this.attrs.value(ref);
    if (v !== undefined) return v;
    this.problems.add(
      'value',
      `An expression attribute value used in expression is not defined; attribute value: ${ref}`,
    );
    return DUMMY_VALUE;
  }

  setValue(raw: RawNode): UpdateValue {
    switch (raw.t) {
      case 'path':
        return { k: 'path', p: this.path(raw) };
      case 'val':
        return { k: 'val', v: this.value(raw.v) };
      case 'arith': {
        const a = this.setValue(raw.a);
        const b = this.setValue(raw.b);
        for (const x of [a, b]) {
          const t = x.k === 'val' && x.v !== DUMMY_VALUE ? typeOf(x.v) : undefined;
          if (t && t !== 'N') {
            this.problems.add(
              'function',
              `Incorrect operand type for operator or function; operator or function: ${raw.op}, operand type: ${t}`,
            );
            break;
          }
        }
        return { k: 'arith', op: raw.op, a, b };
      }
      case 'fn': {
        const args = raw.args.map((a) => this.setValue(a));
        const arity = FUNCTIONS[raw.name];
        if (arity === undefined) {
          this.problems.add(
            'unknownFunction',
            CONDITION_FUNCTIONS.has(raw.name)
              ? `The function is not allowed in an update expression; function: ${raw.name}`
              : `Invalid function name; function: ${raw.name}`,
          );
          return { k: 'val', v: DUMMY_VALUE };
        }
        if (arity !== args.length) {
          this.problems.add(
            'function',
            `Incorrect number of operands for operator or function; operator or function: ${raw.name}, number of operands: ${args.length}`,
          );
          return { k: 'val', v: DUMMY_VALUE };
        }
        if (raw.name === 'if_not_exists') {
          const p = args[0];
          if (p.k !== 'path') {
            this.problems.add(
              'function',
              'Operator or function requires a document path; operator or function: if_not_exists',
            );
            return { k: 'val', v: DUMMY_VALUE };
          }
          return { k: 'if_not_exists', p: p.p, d: args[1] };
        }
        for (const x of args) {
          const t = x.k === 'val' && x.v !== DUMMY_VALUE ? typeOf(x.v) : undefined;
          if (t && t !== 'L') {
            this.problems.add(
              'function',
              `Incorrect operand type for operator or function; operator or function: list_append, operand type: ${t}`,
            );
            break;
          }
        }
        return { k: 'list_append', a: args[0], b: args[1] };
      }
      default:
        return { k: 'val', v: DUMMY_VALUE };
    }
  }
}

/** Check and resolve an update syntax tree; throws DynamoDB's first error. */
export function bindUpdate(sections: RawSection[], attrs: ExpressionAttributes): Update {
  const b = new UpdateBinder(attrs);
  const seenSections = new Set<string>();
  const seenPaths: DocPath[] = [];
  const actions: UpdateAction[] = [];
  for (const s of sections) {
    if (seenSections.has(s.t))
      b.problems.add('section', `The "${s.t}" section can only be used once in an update expression;`);
    seenSections.add(s.t);
    for (const a of s.actions) {
      const p = b.path(a.path);
      switch (s.t) {
        case 'SET':
          actions.push({ k: 'SET', p, v: b.setValue(a.value as RawNode) });
          break;
        case 'REMOVE':
          actions.push({ k: 'REMOVE', p });
          break;
        default: {
          const raw = a.value as RawNode;
          const v = raw.t === 'val' ? b.value(raw.v) : DUMMY_VALUE;
          const t = v === DUMMY_VALUE ? undefined : typeOf(v);
          if (t && TYPE_WORDS[t] && !(s.t === 'ADD' && t === 'N'))
            b.problems.add(
              'operand',
              `Incorrect operand type for operator or function; operator: ${s.t}, operand type: ${TYPE_WORDS[t]}`,
            );
          actions.push({ k: s.t, p, v });
        }
      }
      checkPathOverlap(seenPaths, p, b.problems);
    }
  }
  b.problems.throwFirst('UpdateExpression', ORDER);
  return { actions };
}

/** Parse an UpdateExpression (syntax cached by text). */
export function parseUpdate(expr: string, attrs: ExpressionAttributes): Update {
  return bindUpdate(syntaxTree(expr, 'Update', 'UpdateExpression'), attrs);
}

// ------------------------------------------------------------------ application

const MISSING = 'The provided expression refers to an attribute that does not exist in the item';
const WRONG_TYPE = 'An operand in the update expression has an incorrect data type';
const BAD_PATH = 'The document path provided in the update expression is invalid for update';

function num(v: AttributeValue): Decimal {
  return parseDecimalLoose(v.N as string) ?? ZERO;
}

function evalValue(u: UpdateValue, item: Item): AttributeValue {
  switch (u.k) {
    case 'val':
      return u.v;
    case 'path': {
      const v = getPath(item, u.p);
      if (v === undefined) throw validation(MISSING);
      return v;
    }
    case 'if_not_exists':
      return getPath(item, u.p) ?? evalValue(u.d, item);
    case 'arith': {
      const a = evalValue(u.a, item);
      if (a.N === undefined) throw validation(WRONG_TYPE);
      const b = evalValue(u.b, item);
      if (b.N === undefined) throw validation(WRONG_TYPE);
      const y = num(b);
      return { N: formatDecimal(addDecimal(num(a), u.op === '-' ? negate(y) : y)) };
    }
    case 'list_append': {
      const a = evalValue(u.a, item);
      if (a.L === undefined) throw validation(WRONG_TYPE);
      const b = evalValue(u.b, item);
      if (b.L === undefined) throw validation(WRONG_TYPE);
      return { L: a.L.concat(b.L) };
    }
  }
}

/** Marks a removed list element until the list is compacted at the end of the update. */
const TOMBSTONE: AttributeValue = Object.freeze({}) as AttributeValue;

/**
 * Apply an update to an item, returning a new item (the input is never mutated; attributes the
 * update does not touch are shared with it). Right-hand sides are evaluated against the item as
 * it was before the update; list indexes refer to the original list positions.
 */
export function applyUpdate(u: Update, item: Item): Item {
  const actions = u.actions;
  const values: (AttributeValue | undefined)[] = new Array(actions.length);
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    if (a.k === 'SET') values[i] = cloneValue(evalValue(a.v, item));
  }
  const out: Item = { ...item };
  // Copy-on-write: only the top-level attributes the update touches are deep-copied.
  for (const a of actions) {
    const name = a.p[0] as string;
    const v = own(item, name);
    if (v !== undefined && out[name] === v) out[name] = cloneValue(v);
  }
  const root: AttributeValue = { M: out };
  const wrongType = u.legacy ? 'Type mismatch for attribute to update' : WRONG_TYPE;
  let lists: AttributeValue[] | undefined;
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    const parent = a.p.length === 1 ? root : parentOf(out, a.p);
    const last = a.p[a.p.length - 1];
    if (parent === undefined || (typeof last === 'number' ? parent.L === undefined : parent.M === undefined)) {
      throw validation(BAD_PATH);
    }
    const existingRaw = typeof last === 'number' ? (parent.L as AttributeValue[])[last] : own(parent.M as Item, last);
    const existing = existingRaw === TOMBSTONE ? undefined : existingRaw;
    let next: AttributeValue | undefined | null = null; // null: leave as is, undefined: remove
    switch (a.k) {
      case 'SET':
        next = values[i];
        break;
      case 'REMOVE':
        next = undefined;
        break;
      case 'ADD':
        next = addTo(existing, a.v, wrongType);
        break;
      case 'DELETE':
        next = deleteFrom(existing, a.v, wrongType);
        break;
    }
    if (next === null) continue;
    if (typeof last === 'number') {
      const l = parent.L as AttributeValue[];
      if (next !== undefined) {
        if (last >= l.length) (lists ??= []).push(parent);
        l[last] = next;
      } else if (last < l.length) {
        l[last] = TOMBSTONE;
        (lists ??= []).push(parent);
      }
    } else if (next !== undefined) (parent.M as Item)[last] = next;
    else delete (parent.M as Item)[last];
  }
  if (lists) for (const l of lists) l.L = (l.L as AttributeValue[]).filter((x) => x !== TOMBSTONE);
  return out;
}

function parentOf(item: Item, p: DocPath): AttributeValue | undefined {
  let v = own(item, p[0] as string);
  for (let i = 1; i < p.length - 1 && v !== undefined; i++) {
    const e = p[i];
    if (typeof e === 'number') v = v.L !== undefined ? v.L[e] : undefined;
    else v = v.M !== undefined ? own(v.M, e) : undefined;
    if (v === TOMBSTONE) v = undefined;
  }
  return v;
}

function setTypeOf(v: AttributeValue): 'SS' | 'NS' | 'BS' | undefined {
  return v.SS !== undefined ? 'SS' : v.NS !== undefined ? 'NS' : v.BS !== undefined ? 'BS' : undefined;
}

/** ADD: number addition, set union, (legacy) list append; the new value of the attribute. */
function addTo(existing: AttributeValue | undefined, v: AttributeValue, wrongType: string): AttributeValue {
  if (v.N !== undefined) {
    if (existing === undefined) return { N: v.N };
    if (existing.N === undefined) throw validation(wrongType);
    return { N: formatDecimal(addDecimal(num(existing), num(v))) };
  }
  if (v.L !== undefined) {
    if (existing === undefined) return { L: v.L.map(cloneValue) };
    if (existing.L === undefined) throw validation(wrongType);
    return { L: existing.L.concat(v.L.map(cloneValue)) };
  }
  const t = setTypeOf(v);
  if (!t) throw validation(wrongType);
  const add = v[t] as string[];
  if (existing === undefined) return { [t]: add.slice() };
  const cur = existing[t];
  if (cur === undefined) throw validation(wrongType);
  const merged = cur.slice();
  if (cur.length * add.length > 256) {
    const have = new Set(cur);
    for (const x of add) if (!have.has(x)) merged.push(x);
  } else for (const x of add) if (!cur.includes(x)) merged.push(x);
  return { [t]: merged };
}

/** DELETE: set difference; undefined when the set becomes empty, null when nothing changes. */
function deleteFrom(
  existing: AttributeValue | undefined,
  v: AttributeValue,
  wrongType: string,
): AttributeValue | undefined | null {
  const t = setTypeOf(v);
  if (!t) throw validation(wrongType);
  if (existing === undefined) return null;
  const cur = existing[t];
  if (cur === undefined) throw validation(wrongType);
  const drop = v[t] as string[];
  const dropSet = cur.length * drop.length > 256 ? new Set(drop) : undefined;
  const left = cur.filter((x) => !(dropSet ? dropSet.has(x) : drop.includes(x)));
  return left.length ? { [t]: left } : undefined;
}

/** Top-level attribute names an update writes or removes (to refuse updates of key attributes). */
export function touchedTopLevelNames(u: Update): Set<string> {
  const s = new Set<string>();
  for (const a of u.actions) s.add(a.p[0] as string);
  return s;
}

/** Top-level attributes an update affects, each as a one-element path (ReturnValues UPDATED_*). */
export function updatedPaths(u: Update): string[][] {
  return [...touchedTopLevelNames(u)].map((n) => [n]);
}

/**
 * The exact document paths an update affects, as a projection: AWS returns UPDATED_OLD /
 * UPDATED_NEW as this projection of the old / new item (`SET a.b = :v` returns `{a: {M: {b}}}`).
 */
export function updatedProjection(u: Update): Projection {
  return { paths: u.actions.map((a) => a.p) };
}
