/**
 * Metric math basics: `+ - * /`, unary minus, parentheses, numbers, query ids, arrays `[m1, m2]`,
 * and the functions SUM, AVG, MIN, MAX (of a series: a scalar; of an array: a series), FILL(x, value |
 * REPEAT | LINEAR), ABS and METRICS(). Anything else is refused by name.
 */

/** A time series: timestamp (ms) → value. */
export type Series = Map<number, number>;
export type MathValue = number | Series | Series[];

export type Node =
  | { k: 'num'; v: number }
  | { k: 'id'; id: string }
  | { k: 'neg'; e: Node }
  | { k: 'bin'; op: '+' | '-' | '*' | '/'; l: Node; r: Node }
  | { k: 'arr'; items: Node[] }
  | { k: 'call'; fn: string; args: Node[] }
  | { k: 'word'; w: string };

export class MathError extends Error {}

const FUNCTIONS = new Set(['SUM', 'AVG', 'MIN', 'MAX', 'FILL', 'ABS', 'METRICS']);

export function parseExpression(src: string): Node {
  const toks = tokenize(src);
  let i = 0;
  const peek = () => toks[i];
  const eat = (t?: string) => {
    const x = toks[i++];
    if (t !== undefined && x !== t) throw new MathError(`Syntax error: expected '${t}' but found '${x ?? 'end'}'`);
    return x;
  };
  const expr = (): Node => {
    let l = term();
    while (peek() === '+' || peek() === '-') {
      const op = eat() as '+' | '-';
      l = { k: 'bin', op, l, r: term() };
    }
    return l;
  };
  const term = (): Node => {
    let l = unary();
    while (peek() === '*' || peek() === '/') {
      const op = eat() as '*' | '/';
      l = { k: 'bin', op, l, r: unary() };
    }
    return l;
  };
  const unary = (): Node => {
    if (peek() === '-') {
      eat();
      return { k: 'neg', e: unary() };
    }
    return primary();
  };
  const primary = (): Node => {
    const t = eat();
    if (t === undefined) throw new MathError('Syntax error: unexpected end of expression');
    if (t === '(') {
      const e = expr();
      eat(')');
      return e;
    }
    if (t === '[') {
      const items: Node[] = [];
      if (peek() !== ']') {
        items.push(expr());
        while (peek() === ',') {
          eat();
          items.push(expr());
        }
      }
      eat(']');
      return { k: 'arr', items };
    }
    if (/^\d/.test(t) || /^\.\d/.test(t)) return { k: 'num', v: Number(t) };
    if (/^[A-Za-z_]\w*$/.test(t)) {
      if (peek() === '(') {
        const fn = t.toUpperCase();
        if (!FUNCTIONS.has(fn))
          throw new MathError(`Unsupported function: ${t} (Eddy implements ${[...FUNCTIONS].join(', ')})`);
        eat('(');
        const args: Node[] = [];
        if (peek() !== ')') {
          args.push(expr());
          while (peek() === ',') {
            eat();
            args.push(expr());
          }
        }
        eat(')');
        return { k: 'call', fn, args };
      }
      if (t === 'REPEAT' || t === 'LINEAR') return { k: 'word', w: t };
      return { k: 'id', id: t };
    }
    throw new MathError(`Syntax error: unexpected '${t}'`);
  };
  const e = expr();
  if (i < toks.length) throw new MathError(`Syntax error: unexpected '${toks[i]}'`);
  return e;
}

function tokenize(src: string): string[] {
  const out: string[] = [];
  const re = /\s*(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+|[A-Za-z_]\w*|[-+*/(),[\]])/y;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw new MathError(`Syntax error at '${src.slice(pos).trim().slice(0, 20)}'`);
    out.push(m[1]);
    pos = re.lastIndex;
  }
  return out;
}

/** Ids an expression reads. */
export function references(n: Node, out = new Set<string>()): Set<string> {
  switch (n.k) {
    case 'id':
      out.add(n.id);
      break;
    case 'neg':
      references(n.e, out);
      break;
    case 'bin':
      references(n.l, out);
      references(n.r, out);
      break;
    case 'arr':
      for (const x of n.items) references(x, out);
      break;
    case 'call':
      for (const x of n.args) references(x, out);
      break;
  }
  return out;
}

export interface MathEnv {
  /** A query's result by id. */
  get(id: string): MathValue | undefined;
  /** Every metric (MetricStat) result of the request, for METRICS(). */
  metrics(): Series[];
  /** The period grid of the request (timestamps a FILL fills). */
  grid: number[];
}

export function evaluate(n: Node, env: MathEnv): MathValue {
  switch (n.k) {
    case 'num':
      return n.v;
    case 'id': {
      const v = env.get(n.id);
      if (v === undefined) throw new MathError(`Unrecognized identifier: ${n.id}`);
      return v;
    }
    case 'word':
      throw new MathError(`${n.w} is only valid as the second argument of FILL`);
    case 'neg':
      return map(evaluate(n.e, env), (x) => -x);
    case 'bin':
      return binary(n.op, evaluate(n.l, env), evaluate(n.r, env));
    case 'arr': {
      const out: Series[] = [];
      for (const it of n.items) {
        const v = evaluate(it, env);
        if (typeof v === 'number') throw new MathError('Arrays hold time series, not scalars');
        if (Array.isArray(v)) out.push(...v);
        else out.push(v);
      }
      return out;
    }
    case 'call':
      return call(n.fn, n.args, env);
  }
}

function map(v: MathValue, f: (x: number) => number): MathValue {
  if (typeof v === 'number') return f(v);
  if (Array.isArray(v)) return v.map((s) => map(s, f) as Series);
  const out: Series = new Map();
  for (const [t, x] of v) {
    const y = f(x);
    if (Number.isFinite(y)) out.set(t, y);
  }
  return out;
}

function op(o: string, a: number, b: number): number {
  switch (o) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    default:
      return a / b;
  }
}

function binary(o: string, l: MathValue, r: MathValue): MathValue {
  if (typeof l === 'number' && typeof r === 'number') return op(o, l, r);
  if (typeof r === 'number') return map(l, (x) => op(o, x, r));
  if (typeof l === 'number') return map(r, (x) => op(o, l, x));
  if (Array.isArray(l) && Array.isArray(r)) {
    if (l.length !== r.length) throw new MathError('Arrays must have the same length');
    return l.map((s, i) => binary(o, s, r[i]) as Series);
  }
  if (Array.isArray(l)) return l.map((s) => binary(o, s, r) as Series);
  if (Array.isArray(r)) return r.map((s) => binary(o, l, s) as Series);
  const out: Series = new Map();
  for (const [t, x] of l) {
    const y = r.get(t);
    if (y === undefined) continue;
    const z = op(o, x, y);
    if (Number.isFinite(z)) out.set(t, z);
  }
  return out;
}

const reducers: Record<string, (xs: number[]) => number> = {
  SUM: (xs) => xs.reduce((a, b) => a + b, 0),
  AVG: (xs) => xs.reduce((a, b) => a + b, 0) / xs.length,
  MIN: (xs) => Math.min(...xs),
  MAX: (xs) => Math.max(...xs),
};

function call(fn: string, args: Node[], env: MathEnv): MathValue {
  if (fn === 'METRICS') {
    if (args.length) throw new MathError('METRICS() with a filter string is not supported by Eddy');
    return env.metrics();
  }
  if (fn === 'FILL') {
    if (args.length !== 2) throw new MathError('FILL takes two arguments');
    const x = evaluate(args[0], env);
    const how = args[1].k === 'word' ? args[1].w : evaluate(args[1], env);
    if (typeof x === 'number') return x;
    const fill = (s: Series): Series => fillSeries(s, how, env.grid);
    return Array.isArray(x) ? x.map(fill) : fill(x);
  }
  if (args.length !== 1) throw new MathError(`${fn} takes one argument`);
  const x = evaluate(args[0], env);
  if (fn === 'ABS') return map(x, Math.abs);
  const reduce = reducers[fn];
  if (typeof x === 'number') return x;
  if (!Array.isArray(x)) {
    const vs = [...x.values()];
    return vs.length ? reduce(vs) : Number.NaN;
  }
  const times = new Set<number>();
  for (const s of x) for (const t of s.keys()) times.add(t);
  const out: Series = new Map();
  for (const t of [...times].sort((a, b) => a - b)) {
    const vs: number[] = [];
    for (const s of x) {
      const v = s.get(t);
      if (v !== undefined) vs.push(v);
    }
    out.set(t, reduce(vs));
  }
  return out;
}

function fillSeries(s: Series, how: MathValue | string, grid: number[]): Series {
  const out: Series = new Map();
  const known = [...s.entries()].sort((a, b) => a[0] - b[0]);
  for (const t of grid) {
    const v = s.get(t);
    if (v !== undefined) {
      out.set(t, v);
      continue;
    }
    if (typeof how === 'number') out.set(t, how);
    else if (how === 'REPEAT') {
      const prev = known.filter(([kt]) => kt < t).at(-1);
      if (prev) out.set(t, prev[1]);
    } else if (how === 'LINEAR') {
      const prev = known.filter(([kt]) => kt < t).at(-1);
      const next = known.find(([kt]) => kt > t);
      if (prev && next) out.set(t, prev[1] + ((next[1] - prev[1]) * (t - prev[0])) / (next[0] - prev[0]));
    } else throw new MathError('The second argument of FILL must be a number, REPEAT or LINEAR');
  }
  for (const [t, v] of s) if (!out.has(t)) out.set(t, v);
  return out;
}
