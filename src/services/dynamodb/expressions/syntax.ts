import { validation } from '../../../core/errors.ts';
import { parse, type StartRule } from './generated/parser.js';

/** The request member an expression came from; it prefixes every error (`Invalid <kind>: ...`). */
export type ExpressionKind =
  | 'ConditionExpression'
  | 'FilterExpression'
  | 'KeyConditionExpression'
  | 'UpdateExpression'
  | 'ProjectionExpression';

// ------------------------------------------------------------------ raw syntax tree (parser output)

/** A path element as written: an identifier, a `#name` reference, or a list index `{ i: "3" }`. */
export type RawPart = string | { i: string };
export interface RawPath {
  t: 'path';
  parts: RawPart[];
  rp?: true;
}
export interface RawValue {
  t: 'val';
  v: string;
  rp?: true;
}
export interface RawFunction {
  t: 'fn';
  name: string;
  args: RawNode[];
  rp?: true;
}
export interface RawArith {
  t: 'arith';
  op: '+' | '-';
  a: RawNode;
  b: RawNode;
  rp?: true;
}
export type RawOperand = RawPath | RawValue | RawFunction;
export type RawCondition =
  | { t: 'or' | 'and'; list: RawNode[]; rp?: true }
  | { t: 'not'; c: RawNode; rp?: true }
  | { t: 'cmp'; op: '=' | '<>' | '<' | '<=' | '>' | '>='; a: RawNode; b: RawNode; rp?: true }
  | { t: 'between'; a: RawNode; lo: RawNode; hi: RawNode; rp?: true }
  | { t: 'in'; a: RawNode; list: RawNode[]; rp?: true };
export type RawNode = RawOperand | RawCondition | RawArith;

export interface RawSection {
  t: 'SET' | 'REMOVE' | 'ADD' | 'DELETE';
  actions: { path: RawPath; value?: RawNode }[];
}

// ------------------------------------------------------------------ errors

/** Builds `Invalid <kind>: <detail>` as DynamoDB words it. */
export const invalid = (kind: ExpressionKind, detail: string) => validation(`Invalid ${kind}: ${detail}`);

interface Token {
  start: number;
  end: number;
}

const isIdent = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; /* 0-9 A-Z a-z _ */
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** DynamoDB's lexical tokens, only used to word syntax errors. */
function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === 35 || c === 58 /* # : */) {
      i++;
      while (i < s.length && isIdent(s.charCodeAt(i))) i++;
    } else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      while (i < s.length && isIdent(s.charCodeAt(i))) i++;
    } else if (c >= 48 && c <= 57) {
      while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    } else if ((c === 60 || c === 62) && (s[i + 1] === '=' || (c === 60 && s[i + 1] === '>'))) {
      i += 2;
    } else {
      // One UTF-16 unit, or a whole surrogate pair.
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
    }
    out.push({ start, end: i });
  }
  return out;
}

/**
 * `Syntax error; token: "<t>", near: "<text>"`: the offending token and the source text from the
 * token before it to the token after it (`<EOF>` when the input ended too early).
 */
export function syntaxErrorText(s: string, offset: number): string {
  const tokens = tokenize(s);
  let at = tokens.findIndex((t) => t.end > offset);
  if (at < 0) at = tokens.length;
  const tok = at < tokens.length ? s.slice(tokens[at].start, tokens[at].end) : '<EOF>';
  const from = at > 0 ? tokens[at - 1].start : at < tokens.length ? tokens[at].start : 0;
  const to =
    at + 1 < tokens.length ? tokens[at + 1].end : at < tokens.length ? tokens[at].end : at > 0 ? tokens[at - 1].end : 0;
  return `Syntax error; token: "${tok}", near: "${s.slice(from, to)}"`;
}

// ------------------------------------------------------------------ parse with a cache

const MAX_EXPRESSION_BYTES = 4096;
const CACHE_SIZE = 1000;
const cache = new Map<string, unknown>();

/** A cached syntax error, rethrown with the kind of the expression that hit it. */
class CachedSyntaxError {
  constructor(readonly detail: string) {}
}

function parseCached(expr: string, rule: StartRule): unknown {
  const key = rule[0] + expr;
  let hit = cache.get(key);
  if (hit !== undefined) return hit;
  try {
    hit = parse(expr, { startRule: rule });
  } catch (e) {
    const offset = (e as { location?: { start: { offset: number } } }).location?.start.offset;
    if (offset === undefined) throw e;
    hit = new CachedSyntaxError(syntaxErrorText(expr, offset));
  }
  // First in, first out (Map keeps insertion order): cheap, and a hot expression evicted by a
  // burst of new ones is simply parsed again.
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, hit);
  return hit;
}

/**
 * The syntax tree of an expression (cached by text; trees are shared, never mutate them).
 * Throws DynamoDB's errors for empty, oversized and syntactically invalid expressions.
 */
export function syntaxTree(expr: string, rule: 'Condition', kind: ExpressionKind): RawNode;
export function syntaxTree(expr: string, rule: 'Update', kind: ExpressionKind): RawSection[];
export function syntaxTree(expr: string, rule: 'Projection', kind: ExpressionKind): RawPath[];
export function syntaxTree(expr: string, rule: StartRule, kind: ExpressionKind): unknown {
  if (typeof expr !== 'string' || expr === '') throw invalid(kind, 'The expression can not be empty;');
  if (expr.length > MAX_EXPRESSION_BYTES / 3) {
    const size = Buffer.byteLength(expr, 'utf8');
    if (size > MAX_EXPRESSION_BYTES)
      throw invalid(kind, `Expression size has exceeded the maximum allowed size; expression size: ${size}`);
  }
  const tree = parseCached(expr, rule);
  if (tree instanceof CachedSyntaxError) throw invalid(kind, tree.detail);
  return tree;
}
