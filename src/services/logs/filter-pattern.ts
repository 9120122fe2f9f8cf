/**
 * CloudWatch Logs filter patterns (FilterLogEvents, metric filters): terms, quoted phrases,
 * `-exclusions`, `?alternatives`, `%regex%`, and JSON patterns (`{ $.level = "ERROR" && $.ms > 100 }`).
 * Space-delimited patterns (`[ip, user, ...]`) are refused by name.
 */
export type Matcher = (message: string) => boolean;

export class FilterPatternError extends Error {}

export function compileFilterPattern(pattern: string | undefined): Matcher {
  const p = (pattern ?? '').trim();
  if (!p || p === '""') return () => true;
  if (p.startsWith('{')) return compileJson(p);
  if (p.startsWith('['))
    throw new FilterPatternError('Space-delimited filter patterns ([...]) are not supported by Eddy yet.');
  if (p.length > 1 && p.startsWith('%') && p.endsWith('%')) {
    let re: RegExp;
    try {
      re = new RegExp(p.slice(1, -1));
    } catch {
      throw new FilterPatternError('Invalid regular expression in filter pattern.');
    }
    return (m) => re.test(m);
  }
  return compileTerms(p);
}

function tokenizeTerms(p: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < p.length) {
    if (p[i] === ' ' || p[i] === '\t') {
      i++;
      continue;
    }
    let prefix = '';
    if (p[i] === '-' || p[i] === '?') prefix = p[i++];
    if (p[i] === '"') {
      let j = i + 1;
      let s = '';
      while (j < p.length && p[j] !== '"') {
        if (p[j] === '\\' && j + 1 < p.length) j++;
        s += p[j++];
      }
      if (j >= p.length) throw new FilterPatternError('Invalid filter pattern: unterminated quoted string.');
      out.push(prefix + '\u0000' + s);
      i = j + 1;
    } else {
      let j = i;
      while (j < p.length && p[j] !== ' ' && p[j] !== '\t') j++;
      out.push(prefix + '\u0000' + p.slice(i, j));
      i = j;
    }
  }
  return out;
}

function compileTerms(p: string): Matcher {
  const required: string[] = [];
  const excluded: string[] = [];
  const any: string[] = [];
  for (const t of tokenizeTerms(p)) {
    const [prefix, term] = t.split('\u0000');
    if (prefix === '-') excluded.push(term);
    else if (prefix === '?') any.push(term);
    else required.push(term);
  }
  return (m) => {
    if (any.length && !any.some((t) => m.includes(t))) return false;
    for (const t of required) if (!m.includes(t)) return false;
    for (const t of excluded) if (m.includes(t)) return false;
    return true;
  };
}

// ---- JSON patterns -------------------------------------------------------------------------------

type Node =
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'cmp'; path: (string | number)[]; op: string; value: unknown; wildcard?: RegExp }
  | { kind: 'exists'; path: (string | number)[]; not: boolean }
  | { kind: 'null'; path: (string | number)[] };

function compileJson(p: string): Matcher {
  if (!p.endsWith('}')) throw new FilterPatternError('Invalid filter pattern: JSON patterns must be enclosed in { }.');
  const src = p.slice(1, -1);
  let i = 0;
  const ws = () => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  const fail = (): never => {
    throw new FilterPatternError(`Invalid filter pattern: unexpected input at position ${i + 1}.`);
  };
  const parsePath = (): (string | number)[] => {
    ws();
    if (src[i] !== '$') fail();
    i++;
    const path: (string | number)[] = [];
    while (i < src.length) {
      if (src[i] === '.') {
        i++;
        let j = i;
        while (j < src.length && /[A-Za-z0-9_\-@$]/.test(src[j])) j++;
        if (j === i) fail();
        path.push(src.slice(i, j));
        i = j;
      } else if (src[i] === '[') {
        const j = src.indexOf(']', i);
        if (j < 0) fail();
        const inner = src.slice(i + 1, j).trim();
        path.push(/^\d+$/.test(inner) ? Number(inner) : inner.replace(/^['"]|['"]$/g, ''));
        i = j + 1;
      } else break;
    }
    return path;
  };
  const parseValue = (): { value: unknown; quoted: boolean } => {
    ws();
    if (src[i] === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        s += src[j++];
      }
      if (j >= src.length) fail();
      i = j + 1;
      return { value: s, quoted: true };
    }
    let j = i;
    while (j < src.length && !/[\s)&|]/.test(src[j])) j++;
    const raw = src.slice(i, j);
    if (!raw) fail();
    i = j;
    if (raw === 'true' || raw === 'false') return { value: raw === 'true', quoted: false };
    if (raw === 'null') return { value: null, quoted: false };
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) return { value: Number(raw), quoted: false };
    return { value: raw, quoted: false };
  };
  const parsePrimary = (): Node => {
    ws();
    if (src[i] === '(') {
      i++;
      const n = parseOr();
      ws();
      if (src[i] !== ')') fail();
      i++;
      return n;
    }
    const path = parsePath();
    ws();
    const rest = src.slice(i);
    let m = /^IS\s+NULL/i.exec(rest);
    if (m) {
      i += m[0].length;
      return { kind: 'null', path };
    }
    m = /^(NOT\s+)?EXISTS/i.exec(rest);
    if (m) {
      i += m[0].length;
      return { kind: 'exists', path, not: !!m[1] };
    }
    const op = /^(!=|<=|>=|=|<|>)/.exec(rest)?.[1];
    if (!op) fail();
    i += op!.length;
    const { value, quoted } = parseValue();
    let wildcard: RegExp | undefined;
    if (typeof value === 'string' && value.includes('*') && (op === '=' || op === '!=')) {
      wildcard = new RegExp(`^${value.split('*').map(escapeRe).join('.*')}$`);
    }
    if ((op === '<' || op === '>' || op === '<=' || op === '>=') && typeof value !== 'number') fail();
    void quoted;
    return { kind: 'cmp', path, op: op!, value, wildcard };
  };
  const parseAnd = (): Node => {
    let left = parsePrimary();
    for (;;) {
      ws();
      if (src.startsWith('&&', i)) {
        i += 2;
        left = { kind: 'and', left, right: parsePrimary() };
      } else return left;
    }
  };
  const parseOr = (): Node => {
    let left = parseAnd();
    for (;;) {
      ws();
      if (src.startsWith('||', i)) {
        i += 2;
        left = { kind: 'or', left, right: parseAnd() };
      } else return left;
    }
  };
  const root = parseOr();
  ws();
  if (i !== src.length) fail();
  return (message) => {
    let doc: unknown;
    try {
      doc = JSON.parse(message);
    } catch {
      return false;
    }
    if (doc === null || typeof doc !== 'object') return false;
    return evaluate(root, doc);
  };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function select(doc: unknown, path: (string | number)[]): { found: boolean; value: unknown } {
  let cur: any = doc;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || !(k in cur)) return { found: false, value: undefined };
    cur = cur[k];
  }
  return { found: true, value: cur };
}

function evaluate(n: Node, doc: unknown): boolean {
  switch (n.kind) {
    case 'and':
      return evaluate(n.left, doc) && evaluate(n.right, doc);
    case 'or':
      return evaluate(n.left, doc) || evaluate(n.right, doc);
    case 'exists':
      return select(doc, n.path).found !== n.not;
    case 'null': {
      const s = select(doc, n.path);
      return s.found && s.value === null;
    }
    case 'cmp': {
      const { found, value } = select(doc, n.path);
      if (!found) return false;
      if (typeof n.value === 'number') {
        if (typeof value !== 'number') return n.op === '!=';
        switch (n.op) {
          case '=':
            return value === n.value;
          case '!=':
            return value !== n.value;
          case '<':
            return value < n.value;
          case '>':
            return value > n.value;
          case '<=':
            return value <= n.value;
          default:
            return value >= n.value;
        }
      }
      const eq = n.wildcard ? typeof value === 'string' && n.wildcard.test(value) : value === n.value;
      return n.op === '=' ? eq : !eq;
    }
  }
}
