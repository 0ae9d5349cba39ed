/**
 * JSON with source positions, for error messages that name a line and column: `parseJsonSource`
 * gives the value (as `JSON.parse` does) and the offset where each value starts, by path
 * (`messages[1].role`); a syntax error gives the offset `JSON.parse` reports, or where this module's
 * own reader stops when `JSON.parse`'s message has no position (Node 20: `Unexpected token …`).
 *
 * @module
 */

/** 1-based line and column (in UTF-16 code units, as editors count for BMP text). */
export interface LineColumn {
  line: number;
  column: number;
}

/** A JSON syntax error at `offset` (0-based, in UTF-16 code units). */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** A parsed JSON text and where each value starts. */
export interface JsonSource {
  value: unknown;
  /** Offset of the value at `path` (`''` the root, `a.b`, `a[0]`), or of its nearest ancestor. */
  offsetOf(path: string): number;
}

/** Line and column of `offset` in `text` (`\n`, `\r\n` and `\r` end lines). */
export function lineColumn(text: string, offset: number): LineColumn {
  let line = 1;
  let start = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: end - start + 1 };
}

/** `path` of `key` in an object at `parent` (identifiers as `.key`, others as `["key"]`). */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** A strict RFC 8259 reader that records where values start; throws `JsonSyntaxError`. */
class Reader {
  pos = 0;
  readonly offsets = new Map<string, number>();
  constructor(readonly text: string) {}

  fail(message: string): never {
    throw new JsonSyntaxError(message, this.pos);
  }

  ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else break;
    }
  }

  /** What is at the current position: `end of input`, a word (`'tru'`) or one character (JSON-escaped). */
  describe(): string {
    if (this.pos >= this.text.length) return 'end of input';
    const word = /^[\p{L}\p{N}_$.+-]+/u.exec(this.text.slice(this.pos, this.pos + 40));
    return `'${word ? word[0] : JSON.stringify(this.text[this.pos]).slice(1, -1)}'`;
  }

  value(path: string): void {
    this.ws();
    this.offsets.set(path, this.pos);
    const c = this.text[this.pos];
    if (c === '{') this.object(path);
    else if (c === '[') this.array(path);
    else if (c === '"') this.string();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) this.number();
    else this.literal();
  }

  literal(): void {
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return;
      }
    }
    this.fail(
      `Unexpected ${this.describe()}: expected a value (string, number, object, array, true, false or null)`,
    );
  }

  object(path: string): void {
    this.pos++;
    this.ws();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.fail(`Unexpected ${this.describe()}: expected a property name`);
      const start = this.pos;
      this.string();
      const key = JSON.parse(this.text.slice(start, this.pos)) as string;
      this.ws();
      if (this.text[this.pos] !== ':') this.fail(`Unexpected ${this.describe()}: expected ':'`);
      this.pos++;
      this.value(childPath(path, key));
      this.ws();
      const c = this.text[this.pos];
      this.pos++;
      if (c === '}') return;
      if (c !== ',') {
        this.pos--;
        this.fail(`Unexpected ${this.describe()}: expected ',' or '}'`);
      }
    }
  }

  array(path: string): void {
    this.pos++;
    this.ws();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (let i = 0; ; i++) {
      this.value(childPath(path, i));
      this.ws();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ']') return;
      if (c !== ',') {
        this.pos--;
        this.fail(`Unexpected ${this.describe()}: expected ',' or ']'`);
      }
    }
  }

  string(): void {
    const t = this.text;
    this.pos++;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 34) {
        this.pos++;
        return;
      }
      if (c < 32) this.fail('Bad control character in string');
      if (c === 92) {
        const e = t[this.pos + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(t.slice(this.pos + 2, this.pos + 6))) {
            this.pos++;
            this.fail('Bad \\u escape in string');
          }
          this.pos += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) {
          this.pos++;
          this.fail('Bad escape in string');
        }
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
    this.fail('Unterminated string');
  }

  number(): void {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!m) this.fail(`Unexpected ${this.describe()}: expected a number`);
    this.pos += m[0].length;
    const next = this.text[this.pos];
    if (next !== undefined && /[\d.eE]/.test(next)) this.fail('Bad number');
  }
}

/** `JSON.parse`'s message without the position and the echoed input. */
function cleanMessage(message: string): string {
  return message
    .replace(/, (\.\.\.)?"[\s\S]*" is not valid JSON$/, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/ \(line \d+ column \d+\)$/, '');
}

/**
 * Parses `text` as JSON, recording where each value starts.
 *
 * @throws JsonSyntaxError with `JSON.parse`'s message and the offset of the problem.
 */
export function parseJsonSource(text: string): JsonSource {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const reader = new Reader(text);
    let ownOffset = text.length;
    let ownMessage = '';
    try {
      reader.value('');
      reader.ws();
      if (reader.pos < text.length) reader.fail('Unexpected text after the JSON value');
    } catch (own) {
      if (!(own instanceof JsonSyntaxError)) throw own;
      ownOffset = own.offset;
      ownMessage = own.message;
    }
    const at = /at position (\d+)/.exec(message);
    if (at) throw new JsonSyntaxError(cleanMessage(message), Number(at[1]));
    throw new JsonSyntaxError(ownMessage || cleanMessage(message), ownMessage ? ownOffset : text.length);
  }
  const reader = new Reader(text);
  reader.value('');
  const offsets = reader.offsets;
  return {
    value,
    offsetOf(path: string): number {
      for (let p = path; ; ) {
        const found = offsets.get(p);
        if (found !== undefined) return found;
        if (p === '') return 0;
        const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
        p = cut <= 0 ? '' : p.slice(0, cut);
      }
    },
  };
}
