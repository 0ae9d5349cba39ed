/**
 * What the `aiwire` commands share: exit codes, the errors that carry them, argument parsing
 * (Node's `util.parseArgs`, strict) and output helpers.
 *
 * @module
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Exit codes: 0 success, 1 API or runtime error, 2 usage error (arguments, request file, environment). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A mistake of the user's (arguments, request file, missing key): exit 2, message without a stack. */
export class UsageError extends Error {
  /** @param hint appended after the message, e.g. "Run 'aiwire run --help' for usage." */
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A failure that is not the user's mistake but needs no stack (port in use, …): exit 1. */
export class CliFailure extends Error {}

/** Writes to stdout. */
export function out(text: string): void {
  process.stdout.write(text);
}

/** Writes `aiwire: <message>` and a newline to stderr. */
export function fail(message: string): void {
  process.stderr.write(`aiwire: ${message}\n`);
}

type Options = NonNullable<ParseArgsConfig['options']>;
/** The values `parseArgs` gives for `options`. */
export type Values = Record<string, string | boolean | undefined>;

/**
 * `util.parseArgs` (strict, positionals allowed) with its errors turned into `UsageError`s whose hint
 * points at `aiwire <command> --help`.
 */
export function parseCommandArgs(
  command: string,
  argv: string[],
  options: Options,
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (e) {
    throw new UsageError(
      (e as Error).message.replace(/\. To specify a positional argument.*$/s, '.'),
      helpHint(command),
    );
  }
}

/** "Run 'aiwire <command> --help' for usage." */
export function helpHint(command: string): string {
  return `Run 'aiwire ${command} --help' for usage.`;
}

/** A string option's value, if given. */
export function stringOption(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * A numeric option's value (undefined when not given).
 *
 * @throws UsageError when it is not a number in `[min, max]` (or not whole, with `integer`).
 */
export function numberOption(
  command: string,
  values: Values,
  name: string,
  range: { min: number; max: number; integer?: boolean },
): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  const ok =
    Number.isFinite(n) && n >= range.min && n <= range.max && (!range.integer || Number.isInteger(n));
  if (!ok) {
    const what = range.integer ? 'a whole number' : 'a number';
    const bound =
      range.max === Number.MAX_SAFE_INTEGER ? `>= ${range.min}` : `from ${range.min} to ${range.max}`;
    throw new UsageError(`--${name} must be ${what} ${bound}, got '${raw}'`, helpHint(command));
  }
  return n;
}

/** Milliseconds since `start` (a `performance.now()` value), rounded. */
export function elapsedMs(start: number): number {
  return Math.round(performance.now() - start);
}
