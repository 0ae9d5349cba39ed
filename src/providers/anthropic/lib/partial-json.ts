/**
 * Parse the JSON text of a tool input that is still arriving (`input_json_delta`s so far), with the
 * completion rules of @anthropic-ai/sdk's vendored partial-JSON parser, so `inputJson` listeners and
 * `currentMessage` see the same snapshots as with the SDK:
 *
 * - a string cut off by the end of the text is dropped (never shown half-written);
 * - a number that runs to the end of the text is dropped (more digits may follow), as is one that can
 *   never become a number (`1.`, `1e-`); a literal cut off (`tru`, `nul`) is dropped;
 * - a trailing `:` or `,` is dropped, and with it an object key that has no value yet;
 * - open objects and arrays are closed.
 *
 * Anything that is not truncated JSON (an unknown word or character outside a string, a closing
 * bracket that does not match) is handed to `JSON.parse` unchanged, so it throws `SyntaxError`.
 * Empty text throws too (the stream treats an empty buffer as `{}` before calling this).
 *
 * Written for aiwire from the SDK's documented behaviour; `__test__/anthropic-stream.test.ts` checks
 * it against the SDK's parser on every prefix of the fixtures' tool inputs and on edge cases.
 */

/** One lexical token of the text: its kind and its source text (strings: without the quotes). */
interface Token {
  kind: '{' | '}' | '[' | ']' | ':' | ',' | 'string' | 'number' | 'literal';
  text: string;
  /** Numbers only: the number reaches the end of the text. */
  atEnd?: boolean;
}

const LITERALS = ['true', 'false', 'null'] as const;
const NUMBER_START = /[-.0-9]/;
const NUMBER_BODY = /[.0-9eE]/;
const LETTER = /[a-zA-Z]/;
const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** Index of the `"` closing the string whose content starts at `from` (escapes honoured), or -1. */
function closingQuote(text: string, from: number): number {
  let at = from;
  for (;;) {
    const q = text.indexOf('"', at);
    if (q === -1) return -1;
    let slashes = 0;
    for (let i = q - 1; i >= from && text[i] === '\\'; i--) slashes++;
    if (slashes % 2 === 0) return q;
    at = q + 1;
  }
}

/** The tokens of `text`, or null when it holds something other than (truncated) JSON. */
function tokenize(text: string): Token[] | null {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === '{' || c === '}' || c === '[' || c === ']' || c === ':' || c === ',') {
      out.push({ kind: c, text: c });
      i++;
    } else if (c === '"') {
      const end = closingQuote(text, i + 1);
      if (end === -1) break; // a string cut off: dropped, and nothing follows it
      out.push({ kind: 'string', text: text.slice(i + 1, end) });
      i = end + 1;
    } else if (isSpace(c)) {
      i++;
    } else if (NUMBER_START.test(c)) {
      const start = i;
      if (c === '-') i++;
      while (i < n) {
        const d = text[i] as string;
        const prev = text[i - 1];
        const sign = (d === '-' || d === '+') && i > start && (prev === 'e' || prev === 'E');
        if (!NUMBER_BODY.test(d) && !sign) break;
        i++;
      }
      out.push({ kind: 'number', text: text.slice(start, i), atEnd: i === n });
    } else if (LETTER.test(c)) {
      const start = i;
      while (i < n && LETTER.test(text[i] as string)) i++;
      const word = text.slice(start, i);
      if ((LITERALS as readonly string[]).includes(word)) {
        out.push({ kind: 'literal', text: word });
      } else {
        const prefixOfLiteral = LITERALS.some((l) => l !== word && l.startsWith(word));
        if (!prefixOfLiteral) return null;
        for (let j = i; j < n; j++) if (!isSpace(text[j])) return null;
      }
    } else {
      return null;
    }
  }
  return out;
}

/** `tokens` without the incomplete tail (see the module comment). */
function dropIncompleteTail(tokens: Token[]): Token[] {
  const open: string[] = [];
  for (const t of tokens) {
    if (t.kind === '{' || t.kind === '[') open.push(t.kind);
    else if (t.kind === '}' || t.kind === ']') open.pop();
  }
  const inObject = open[open.length - 1] === '{';
  let len = tokens.length;
  while (len > 0) {
    const last = tokens[len - 1] as Token;
    if (last.kind === ':') {
      len--;
      continue;
    }
    if (last.kind === 'number' && (last.atEnd || !JSON_NUMBER.test(last.text))) {
      len--;
      continue;
    }
    if (last.kind === 'string' && inObject) {
      const before = tokens[len - 2]?.kind;
      if (before === ',' || before === '{') {
        len--; // a key with no value yet
        continue;
      }
    }
    if (last.kind === ',') len--;
    break;
  }
  return tokens.slice(0, len);
}

/** The text of `tokens` with the open brackets closed, or null when a closer is mismatched. */
function render(tokens: Token[]): string | null {
  const closers: string[] = [];
  let out = '';
  let prevScalar = false;
  for (const t of tokens) {
    if (t.kind === '{') closers.push('}');
    else if (t.kind === '[') closers.push(']');
    else if ((t.kind === '}' || t.kind === ']') && closers.pop() !== t.kind) return null;
    const scalar = t.kind === 'string' || t.kind === 'number' || t.kind === 'literal';
    // Adjacent scalars stay apart, so `12 3` still fails JSON.parse instead of becoming 123.
    if (scalar && prevScalar) out += ' ';
    out += t.kind === 'string' ? `"${t.text}"` : t.text;
    prevScalar = scalar;
  }
  for (let i = closers.length - 1; i >= 0; i--) out += closers[i];
  return out;
}

/**
 * The value of a JSON text that may be cut off anywhere (see the module comment).
 * @throws SyntaxError when the text is not a prefix of JSON (or holds nothing).
 */
export function partialParse(text: string): unknown {
  const tokens = tokenize(text);
  const completed = tokens ? render(dropIncompleteTail(tokens)) : null;
  return JSON.parse(completed ?? text);
}
