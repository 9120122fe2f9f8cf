/**
 * A streaming JSON tokenizer that reproduces what AWS's pattern compiler sees: event-ruler drives a
 * Jackson `JsonParser` token by token and reports errors at `parser.getCurrentLocation()`. AWS returns
 * that location in its error messages, so to give the same text we track the input pointer exactly as
 * Jackson's `ReaderBasedJsonParser` does:
 * - structural tokens consume their character; numbers and `true`/`false`/`null` are consumed whole;
 * - a string value is "incomplete" after `nextToken()` (only its opening quote is consumed) and is
 *   finished by `getText()` or skipped by the next `nextToken()`;
 * - after a field name Jackson also consumes the colon and pre-reads the start of the value (so the
 *   location after a FIELD_NAME is already past the value's first token);
 * - "Unexpected character" errors point at the offending character (Jackson >= 2.13), "Unrecognized
 *   token" errors point past the token.
 */

export type Token =
  | 'START_OBJECT'
  | 'END_OBJECT'
  | 'START_ARRAY'
  | 'END_ARRAY'
  | 'FIELD_NAME'
  | 'VALUE_STRING'
  | 'VALUE_NUMBER_INT'
  | 'VALUE_NUMBER_FLOAT'
  | 'VALUE_TRUE'
  | 'VALUE_FALSE'
  | 'VALUE_NULL';

/** Thrown for malformed JSON; `reason` is Jackson's message, `location` its ` at [Source...]` suffix. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly location: string,
  ) {
    super(reason + location);
  }
}

const MAX_SNIPPET = 500;

interface Ctx {
  kind: 'root' | 'object' | 'array';
  /** No entry read yet in this container. */
  first: boolean;
  /** 1-based line/column of the start marker (for end-of-input messages). */
  line: number;
  col: number;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isWs = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
/** Java's Character.isJavaIdentifierPart, approximated for the token Jackson reports as unrecognized. */
const isIdentPart = (ch: string) => /[\p{L}\p{N}_$]/u.test(ch);

export class JacksonParser {
  private ptr = 0;
  private line = 1;
  private rowStart = 0;
  private readonly stack: Ctx[] = [{ kind: 'root', first: true, line: 1, col: 1 }];
  private pending: Token | null = null;
  private pendingText = '';
  private cur: Token | null = null;
  private text = '';
  private incomplete = false;
  private sourceDesc: string | undefined;

  constructor(private readonly src: string) {}

  get currentToken(): Token | null {
    return this.cur;
  }

  /** `\n at [Source: (String)"..."; line: L, column: C]` for the current position. */
  location(offset = 0): string {
    return this.locationAt(this.line, this.ptr - this.rowStart + 1 + offset);
  }

  private locationAt(line: number, col: number): string {
    if (this.sourceDesc === undefined) {
      const s = this.src;
      this.sourceDesc =
        s.length > MAX_SNIPPET
          ? `(String)"${s.slice(0, MAX_SNIPPET)}"[truncated ${s.length - MAX_SNIPPET} chars]`
          : `(String)"${s}"`;
    }
    return `\n at [Source: ${this.sourceDesc}; line: ${line}, column: ${col}]`;
  }

  /** The text of the current token (finishes an incomplete string). Field names give the name. */
  getText(): string {
    if (this.incomplete) {
      this.text = this.readStringRest();
      this.incomplete = false;
    }
    switch (this.cur) {
      case 'START_OBJECT':
        return '{';
      case 'END_OBJECT':
        return '}';
      case 'START_ARRAY':
        return '[';
      case 'END_ARRAY':
        return ']';
      case null:
        return 'null';
      default:
        return this.text;
    }
  }

  /** Same as getText() for FIELD_NAME tokens. */
  getCurrentName(): string {
    return this.text;
  }

  nextToken(): Token | null {
    if (this.incomplete) {
      this.readStringRest();
      this.incomplete = false;
    }
    if (this.pending !== null) {
      this.cur = this.pending;
      this.text = this.pendingText;
      this.pending = null;
      if (this.cur === 'VALUE_STRING') this.incomplete = true;
      return this.cur;
    }
    const ctx = this.stack[this.stack.length - 1];
    let c = this.skipWs();
    if (c < 0) {
      if (ctx.kind === 'root') {
        this.cur = null;
        return null;
      }
      this.eofInContainer(ctx);
    }
    if (ctx.kind === 'object') {
      if (c === 125 /* } */ && ctx.first) {
        this.ptr++;
        return this.close('END_OBJECT');
      }
      if (!ctx.first) {
        if (c === 125) {
          this.ptr++;
          return this.close('END_OBJECT');
        }
        if (c !== 44 /* , */) this.unexpected(c, 'was expecting comma to separate Object entries');
        this.ptr++;
        c = this.skipWs();
        if (c < 0) this.eofInContainer(ctx);
      }
      ctx.first = false;
      if (c !== 34 /* " */) {
        // Jackson reports a closing brace after a comma the same way (trailing commas are not allowed).
        this.unexpected(c, 'was expecting double-quote to start field name');
      }
      this.ptr++;
      const name = this.readStringRest();
      c = this.skipWs();
      if (c < 0) this.eofInContainer(ctx);
      if (c !== 58 /* : */) this.unexpected(c, 'was expecting a colon to separate field name and value');
      this.ptr++;
      c = this.skipWs();
      if (c < 0) this.eofInContainer(ctx);
      const valueToken = this.readValueStart(c);
      this.pending = valueToken;
      this.pendingText = this.text;
      this.incomplete = false;
      this.cur = 'FIELD_NAME';
      this.text = name;
      return this.cur;
    }
    if (ctx.kind === 'array') {
      if (c === 93 /* ] */ && ctx.first) {
        this.ptr++;
        return this.close('END_ARRAY');
      }
      if (!ctx.first) {
        if (c === 93) {
          this.ptr++;
          return this.close('END_ARRAY');
        }
        if (c !== 44) this.unexpected(c, 'was expecting comma to separate Array entries');
        this.ptr++;
        c = this.skipWs();
        if (c < 0) this.eofInContainer(ctx);
      }
      ctx.first = false;
      this.cur = this.readValueStart(c);
      if (this.cur === 'VALUE_STRING') this.incomplete = true;
      return this.cur;
    }
    // root
    ctx.first = false;
    this.cur = this.readValueStart(c);
    if (this.cur === 'VALUE_STRING') this.incomplete = true;
    return this.cur;
  }

  private close(tok: 'END_OBJECT' | 'END_ARRAY'): Token {
    this.stack.pop();
    this.cur = tok;
    return tok;
  }

  /** Skips whitespace, tracking lines; returns the next char code without consuming it, or -1 at end. */
  private skipWs(): number {
    const s = this.src;
    while (this.ptr < s.length) {
      const c = s.charCodeAt(this.ptr);
      if (!isWs(c)) return c;
      this.ptr++;
      if (c === 10) {
        this.line++;
        this.rowStart = this.ptr;
      } else if (c === 13) {
        if (s.charCodeAt(this.ptr) === 10) this.ptr++;
        this.line++;
        this.rowStart = this.ptr;
      }
    }
    return -1;
  }

  /** Reads the start of a value at `c` (not yet consumed). Sets `text` for scalars. */
  private readValueStart(c: number): Token {
    const s = this.src;
    switch (c) {
      case 123:
        this.ptr++;
        this.stack.push({ kind: 'object', first: true, line: this.line, col: this.ptr - this.rowStart });
        return 'START_OBJECT';
      case 91:
        this.ptr++;
        this.stack.push({ kind: 'array', first: true, line: this.line, col: this.ptr - this.rowStart });
        return 'START_ARRAY';
      case 34:
        this.ptr++;
        this.text = '';
        return 'VALUE_STRING';
      case 116:
        return this.literal('true', 'VALUE_TRUE');
      case 102:
        return this.literal('false', 'VALUE_FALSE');
      case 110:
        return this.literal('null', 'VALUE_NULL');
    }
    if (c === 45 || isDigit(c)) return this.readNumber();
    if (c === 93 || c === 125 || c === 44 || c === 58) this.unexpected(c, 'expected a value');
    if (isIdentPart(s[this.ptr])) this.unrecognizedToken(this.ptr);
    this.unexpected(c, 'expected a value');
  }

  private literal(word: string, tok: Token): Token {
    const start = this.ptr;
    if (this.src.startsWith(word, start)) {
      const after = this.src[start + word.length];
      if (after === undefined || !isIdentPart(after)) {
        this.ptr += word.length;
        this.text = word;
        return tok;
      }
    }
    this.unrecognizedToken(start);
  }

  private unrecognizedToken(start: number): never {
    const s = this.src;
    let end = start;
    while (end < s.length && isIdentPart(s[end])) end++;
    if (end === start) end = start + 1;
    this.ptr = end;
    throw new JsonSyntaxError(
      `Unrecognized token '${s.slice(start, end)}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`,
      this.location(),
    );
  }

  private readNumber(): Token {
    const s = this.src;
    const start = this.ptr;
    let i = start;
    if (s.charCodeAt(i) === 45) {
      i++;
      if (!isDigit(s.charCodeAt(i))) {
        this.ptr = i + 1;
        const ch = s[i];
        throw new JsonSyntaxError(
          ch === undefined
            ? 'Unexpected end-of-input in numeric value'
            : `Unexpected character (${describeChar(s.charCodeAt(i))}) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value`,
          this.location(-1),
        );
      }
    }
    if (s.charCodeAt(i) === 48 && isDigit(s.charCodeAt(i + 1))) {
      this.ptr = i + 2;
      throw new JsonSyntaxError('Invalid numeric value: Leading zeroes not allowed', this.location(-1));
    }
    while (isDigit(s.charCodeAt(i))) i++;
    let float = false;
    if (s.charCodeAt(i) === 46) {
      float = true;
      i++;
      if (!isDigit(s.charCodeAt(i))) {
        this.ptr = i + 1;
        throw new JsonSyntaxError(
          `Unexpected character (${describeChar(s.charCodeAt(i))}) in numeric value: Decimal point not followed by a digit`,
          this.location(-1),
        );
      }
      while (isDigit(s.charCodeAt(i))) i++;
    }
    const e = s.charCodeAt(i);
    if (e === 101 || e === 69) {
      float = true;
      i++;
      const sign = s.charCodeAt(i);
      if (sign === 43 || sign === 45) i++;
      if (!isDigit(s.charCodeAt(i))) {
        this.ptr = i + 1;
        throw new JsonSyntaxError(
          `Unexpected character (${describeChar(s.charCodeAt(i))}) in numeric value: Exponent indicator not followed by a digit`,
          this.location(-1),
        );
      }
      while (isDigit(s.charCodeAt(i))) i++;
    }
    this.ptr = i;
    this.text = s.slice(start, i);
    return float ? 'VALUE_NUMBER_FLOAT' : 'VALUE_NUMBER_INT';
  }

  /** Reads the rest of a string whose opening quote was consumed; returns the decoded value. */
  private readStringRest(): string {
    const s = this.src;
    let out = '';
    let runStart = this.ptr;
    while (true) {
      if (this.ptr >= s.length) {
        throw new JsonSyntaxError(
          `Unexpected end-of-input: was expecting closing quote for a string value`,
          this.location(),
        );
      }
      const c = s.charCodeAt(this.ptr);
      if (c === 34) {
        out += s.slice(runStart, this.ptr);
        this.ptr++;
        return out;
      }
      if (c === 92) {
        out += s.slice(runStart, this.ptr);
        this.ptr++;
        out += this.readEscape();
        runStart = this.ptr;
        continue;
      }
      if (c < 32) {
        this.ptr++;
        throw new JsonSyntaxError(
          `Illegal unquoted character ((CTRL-CHAR, code ${c})): has to be escaped using backslash to be included in string value`,
          this.location(-1),
        );
      }
      this.ptr++;
    }
  }

  private readEscape(): string {
    const s = this.src;
    if (this.ptr >= s.length) {
      throw new JsonSyntaxError('Unexpected end-of-input in character escape sequence', this.location());
    }
    const c = s[this.ptr++];
    switch (c) {
      case '"':
        return '"';
      case '\\':
        return '\\';
      case '/':
        return '/';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'u': {
        let v = 0;
        for (let k = 0; k < 4; k++) {
          if (this.ptr >= s.length) {
            throw new JsonSyntaxError('Unexpected end-of-input in character escape sequence', this.location());
          }
          const h = s.charCodeAt(this.ptr++);
          const d = hexVal(h);
          if (d < 0) {
            throw new JsonSyntaxError(
              `Unexpected character (${describeChar(h)}): expected a hex-digit for character escape sequence`,
              this.location(-1),
            );
          }
          v = v * 16 + d;
        }
        return String.fromCharCode(v);
      }
      default:
        throw new JsonSyntaxError(`Unrecognized character escape ${describeChar(c.charCodeAt(0))}`, this.location(-1));
    }
  }

  private unexpected(c: number, what: string): never {
    this.ptr++;
    throw new JsonSyntaxError(`Unexpected character (${describeChar(c)}): ${what}`, this.location(-1));
  }

  private eofInContainer(ctx: Ctx): never {
    const kind = ctx.kind === 'object' ? 'Object' : 'Array';
    const start = this.locationAt(ctx.line, ctx.col).slice('\n at '.length);
    throw new JsonSyntaxError(
      `Unexpected end-of-input: expected close marker for ${kind} (start marker at ${start})`,
      this.location(),
    );
  }
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Jackson's `_getCharDesc`: `'x' (code 120)`, or `(CTRL-CHAR, code 10)`. */
function describeChar(c: number): string {
  if (Number.isNaN(c)) return "'' (code 0)";
  if (c < 32) return `(CTRL-CHAR, code ${c})`;
  if (c > 255) return `'${String.fromCharCode(c)}' (code ${c} / 0x${c.toString(16)})`;
  return `'${String.fromCharCode(c)}' (code ${c})`;
}
