/**
 * The request file of `aiwire run` (the format of the seed's `model-client-rs --request-file`):
 *
 * ```json
 * { "provider": "openai", "model": "gpt-4o-mini",
 *   "messages": [{ "role": "user", "content": "Hello", "kind": "text" }],
 *   "parameters": { "temperature": 0.7, "max_tokens": 256 } }
 * ```
 *
 * Read, checked field by field, and turned into a `ChatRequest`; every problem is reported as
 * `<file>:<line>:<column>: <field path> <what is wrong>`.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './common.js';
import { childPath, JsonSyntaxError, lineColumn, parseJsonSource } from './json-source.js';

export const PROVIDERS = ['openai', 'anthropic'] as const;
export type Provider = (typeof PROVIDERS)[number];
export const ROLES = ['user', 'assistant', 'system'] as const;
export type Role = (typeof ROLES)[number];

/** One message of the conversation (kind `text`). */
export interface ChatMessage {
  role: Role;
  content: string;
}

/** A provider-neutral chat request, from a request file or `aiwire chat`'s flags. */
export interface ChatRequest {
  provider: Provider;
  model: string;
  messages: ChatMessage[];
  /** `temperature`, `max_tokens`, `top_p`, `stop`, and anything else sent to the API unchanged. */
  parameters: Record<string, unknown>;
  /** Stream the answer (the file's `stream`, or `--stream`). */
  stream: boolean;
  /** The file's `api_base`, if any. */
  baseURL?: string | undefined;
}

/** Anthropic requires `max_tokens`; this is sent when the request has none. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 1024;

const TOP_LEVEL = ['provider', 'model', 'messages', 'parameters', 'stream', 'api_base'];
const MESSAGE_FIELDS = ['role', 'content', 'kind'];
/** Parameters the CLI sets itself, so a request file may not. */
const RESERVED: Record<string, string> = {
  model: 'use the top-level "model"',
  messages: 'use the top-level "messages"',
  stream: 'use the top-level "stream" or --stream',
  stream_options: 'the CLI asks for usage itself',
  system: 'use a message with role "system"',
};

/** A schema problem at `path` (a field path such as `messages[1].role`). */
export class SchemaError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : `a ${typeof v}`} (${show(v)})`;
}

function label(path: string): string {
  return path === '' ? 'the request' : path;
}

function unknownFields(obj: Record<string, unknown>, allowed: string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    if (path === '' && (key === 'api_key' || key === 'apiKey')) {
      throw new SchemaError(
        key,
        `${key} is not read from request files: set OPENAI_API_KEY or ANTHROPIC_API_KEY in the environment`,
      );
    }
    throw new SchemaError(
      childPath(path, key),
      `${childPath(path, key)} is not a known field (${label(path)} may have: ${allowed.join(', ')})`,
    );
  }
}

function requireString(obj: Record<string, unknown>, key: string, path: string): string {
  const p = childPath(path, key);
  const v = obj[key];
  if (v === undefined) throw new SchemaError(path, `${p} is required`);
  if (typeof v !== 'string') throw new SchemaError(p, `${p} must be a string, got ${typeName(v)}`);
  return v;
}

function checkNumber(
  params: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  integer = false,
): void {
  const v = params[key];
  if (v === undefined) return;
  const p = childPath('parameters', key);
  const what = integer ? 'a whole number' : 'a number';
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  if (typeof v !== 'number' || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw new SchemaError(p, `${p} must be ${what} ${range}, got ${typeName(v)}`);
  }
}

/** Checks a request's parameters (the known ones' types and ranges, the reserved names). */
export function checkParameters(provider: Provider, params: Record<string, unknown>): void {
  for (const key of Object.keys(params)) {
    const why = RESERVED[key];
    if (why)
      throw new SchemaError(childPath('parameters', key), `parameters.${key} cannot be set here: ${why}`);
  }
  checkNumber(params, 'temperature', 0, provider === 'anthropic' ? 1 : 2);
  checkNumber(params, 'top_p', 0, 1);
  checkNumber(params, 'max_tokens', 1, Number.MAX_SAFE_INTEGER, true);
  const stop = params.stop;
  if (
    stop !== undefined &&
    stop !== null &&
    typeof stop !== 'string' &&
    !(Array.isArray(stop) && stop.every((s) => typeof s === 'string'))
  ) {
    throw new SchemaError(
      'parameters.stop',
      `parameters.stop must be a string or an array of strings, got ${typeName(stop)}`,
    );
  }
}

/**
 * Checks a parsed request file and returns the request.
 *
 * @throws SchemaError naming the field path and what is wrong.
 */
export function toChatRequest(value: unknown): ChatRequest {
  if (!isObject(value))
    throw new SchemaError('', `the request must be a JSON object, got ${typeName(value)}`);
  unknownFields(value, TOP_LEVEL, '');
  const provider = requireString(value, 'provider', '');
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw new SchemaError(
      'provider',
      `provider must be one of ${PROVIDERS.join(', ')}, got ${show(provider)}`,
    );
  }
  const model = requireString(value, 'model', '');
  if (model === '') throw new SchemaError('model', 'model must not be empty');

  const list = value.messages;
  if (list === undefined) throw new SchemaError('', 'messages is required');
  if (!Array.isArray(list))
    throw new SchemaError('messages', `messages must be an array, got ${typeName(list)}`);
  if (list.length === 0) throw new SchemaError('messages', 'messages must have at least one message');
  const messages = list.map((m: unknown, i): ChatMessage => {
    const path = childPath('messages', i);
    if (!isObject(m)) throw new SchemaError(path, `${path} must be an object, got ${typeName(m)}`);
    unknownFields(m, MESSAGE_FIELDS, path);
    const role = requireString(m, 'role', path);
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new SchemaError(
        `${path}.role`,
        `${path}.role must be one of ${ROLES.join(', ')}, got ${show(role)}`,
      );
    }
    const content = requireString(m, 'content', path);
    if (m.kind !== undefined && m.kind !== 'text') {
      throw new SchemaError(
        `${path}.kind`,
        `${path}.kind must be "text" (the only kind the CLI sends), got ${show(m.kind)}`,
      );
    }
    return { role: role as Role, content };
  });
  if (provider === 'anthropic' && messages.every((m) => m.role === 'system')) {
    throw new SchemaError('messages', 'messages must have a user or assistant message (anthropic)');
  }

  const parameters = value.parameters ?? {};
  if (!isObject(parameters)) {
    throw new SchemaError('parameters', `parameters must be an object, got ${typeName(parameters)}`);
  }
  checkParameters(provider as Provider, parameters);

  const stream = value.stream ?? false;
  if (typeof stream !== 'boolean')
    throw new SchemaError('stream', `stream must be true or false, got ${typeName(stream)}`);
  let baseURL: string | undefined;
  if (value.api_base !== undefined) {
    baseURL = requireString(value, 'api_base', '');
    if (!URL.canParse(baseURL))
      throw new SchemaError('api_base', `api_base must be a URL, got ${show(baseURL)}`);
  }
  return { provider: provider as Provider, model, messages, parameters, stream, baseURL };
}

/**
 * Reads and checks a request file.
 *
 * @throws UsageError `<file>:<line>:<column>: <what is wrong>` (with the offending line and a caret
 *   under the column for syntax errors), or `<file>: <reason>` when it cannot be read.
 */
export function loadRequestFile(file: string): ChatRequest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ENOENT'
        ? 'no such file'
        : err.code === 'EISDIR'
          ? 'is a directory'
          : (err.code ?? err.message);
    throw new UsageError(`${file}: cannot read the request file: ${why}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '')
    throw new UsageError(`${file}:1:1: the request file is empty (expected a JSON object)`);
  let source: ReturnType<typeof parseJsonSource>;
  try {
    source = parseJsonSource(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    const { line, column } = lineColumn(text, e.offset);
    const lineText = text.split(/\r\n|\r|\n/)[line - 1] ?? '';
    const shown = lineText.length > 200 ? `${lineText.slice(0, 200)}...` : lineText;
    const caret = column <= 201 ? `\n  ${shown}\n  ${' '.repeat(column - 1)}^` : '';
    throw new UsageError(`${file}:${line}:${column}: invalid JSON: ${e.message}${caret}`);
  }
  try {
    return toChatRequest(source.value);
  } catch (e) {
    if (!(e instanceof SchemaError)) throw e;
    const { line, column } = lineColumn(text, source.offsetOf(e.path));
    throw new UsageError(`${file}:${line}:${column}: ${e.message}`);
  }
}
