/**
 * Parse JSON text that is still arriving (a structured-output `content` or a strict tool call's
 * `arguments` so far) with the completion rules of openai-node's vendored partial-JSON parser, so the
 * `parsed` / `parsed_arguments` snapshots of `ChatCompletionStream` events are the same as with
 * openai-node:
 *
 * - a string cut off by the end of the text is kept as far as it goes (a dangling escape dropped);
 * - a number that runs to the end of the text is dropped (more digits may follow), and with it the
 *   object key or array slot it belonged to; a whole text that is one number is parsed as it is;
 * - a literal cut off (`tru`, `nul`, `Infin`) counts as the whole literal;
 * - open objects and arrays are closed; a key without a value yet is dropped.
 *
 * Text that is not JSON throws `MalformedJSON` (or `PartialJSON` when what is missing can't be
 * completed); empty or blank text throws `Error`.
 *
 * Written for aiwire from openai-node's documented behaviour; `__test__/openai-chat-stream.test.ts`
 * compares it with openai-node's parser on every prefix of its fixtures.
 */

/** The text ended where a value could not be completed. */
export class PartialJSON extends Error {}
/** The text is not JSON. */
export class MalformedJSON extends Error {}

const BLANK = ' \n\r\t';
const NUMBER_END = ',]}';
/** Literals, longest-prefix-first checks as openai-node's parser makes them (null, true, false, …). */
const LITERALS: [string, unknown, number][] = [
  // [text, value, a cut-off prefix counts when more than this many characters remain]
  ['null', null, 0],
  ['true', true, 0],
  ['false', false, 0],
  ['Infinity', Number.POSITIVE_INFINITY, 0],
  ['-Infinity', Number.NEGATIVE_INFINITY, 1],
  ['NaN', Number.NaN, 0],
];

/** Parse `input`, completing what the end of the text cut off (see the module comment). */
export function partialParse(input: string): unknown {
  if (typeof input !== 'string') throw new TypeError(`expecting str, got ${typeof input}`);
  if (!input.trim()) throw new Error(`${input} is empty`);
  return new Reader(input.trim()).any();
}

class Reader {
  readonly #s: string;
  #i = 0;

  constructor(s: string) {
    this.#s = s;
  }

  #partial(msg: string): never {
    throw new PartialJSON(`${msg} at position ${this.#i}`);
  }

  #malformed(msg: string): never {
    throw new MalformedJSON(`${msg} at position ${this.#i}`);
  }

  #skipBlank(): void {
    const s = this.#s;
    while (this.#i < s.length && BLANK.includes(s[this.#i] as string)) this.#i++;
  }

  any(): unknown {
    this.#skipBlank();
    const s = this.#s;
    const i = this.#i;
    if (i >= s.length) this.#partial('Unexpected end of input');
    const c = s[i];
    if (c === '"') return this.#string();
    if (c === '{') return this.#object();
    if (c === '[') return this.#array();
    const rest = s.length - i;
    for (const [word, literal, minRest] of LITERALS) {
      if (
        s.startsWith(word, i) ||
        (minRest < rest && rest < word.length && word.startsWith(s.substring(i)))
      ) {
        this.#i += word.length;
        return literal;
      }
    }
    return this.#number();
  }

  #string(): unknown {
    const s = this.#s;
    const start = this.#i;
    let escaped = false;
    this.#i++;
    while (this.#i < s.length && (s[this.#i] !== '"' || (escaped && s[this.#i - 1] === '\\'))) {
      escaped = s[this.#i] === '\\' ? !escaped : false;
      this.#i++;
    }
    if (s.charAt(this.#i) === '"') {
      try {
        return JSON.parse(s.substring(start, ++this.#i - Number(escaped)));
      } catch (e) {
        this.#malformed(String(e));
      }
    }
    try {
      return JSON.parse(`${s.substring(start, this.#i - Number(escaped))}"`);
    } catch {
      // an escape sequence cut off (`\u00`): drop it
      return JSON.parse(`${s.substring(start, s.lastIndexOf('\\'))}"`);
    }
  }

  #object(): Record<string, unknown> {
    const s = this.#s;
    this.#i++;
    this.#skipBlank();
    const obj: Record<string, unknown> = {};
    try {
      while (s[this.#i] !== '}') {
        this.#skipBlank();
        if (this.#i >= s.length) return obj;
        const key = this.#string() as string;
        this.#skipBlank();
        this.#i++; // the colon
        try {
          const value = this.any();
          Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
        } catch {
          return obj;
        }
        this.#skipBlank();
        if (s[this.#i] === ',') this.#i++;
      }
    } catch {
      return obj;
    }
    this.#i++;
    return obj;
  }

  #array(): unknown[] {
    const s = this.#s;
    this.#i++;
    const arr: unknown[] = [];
    try {
      while (s[this.#i] !== ']') {
        arr.push(this.any());
        this.#skipBlank();
        if (s[this.#i] === ',') this.#i++;
      }
    } catch {
      return arr;
    }
    this.#i++;
    return arr;
  }

  #number(): unknown {
    const s = this.#s;
    if (this.#i === 0) {
      // the whole text is one number (or not JSON at all)
      try {
        return JSON.parse(s);
      } catch (e) {
        this.#malformed(String(e));
      }
    }
    const start = this.#i;
    if (s[this.#i] === '-') this.#i++;
    while (this.#i < s.length && !NUMBER_END.includes(s[this.#i] as string)) this.#i++;
    if (this.#i === s.length) this.#partial('Unterminated number literal');
    try {
      return JSON.parse(s.substring(start, this.#i));
    } catch {
      try {
        return JSON.parse(s.substring(start, s.lastIndexOf('e')));
      } catch (e) {
        this.#malformed(String(e));
      }
    }
  }
}
