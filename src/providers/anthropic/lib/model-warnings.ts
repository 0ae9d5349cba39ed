/**
 * Deprecation warnings of `messages.create()` / `messages.stream()` (and their `beta.messages`
 * twins), as @anthropic-ai/sdk prints them: a `console.warn` when the request names a deprecated
 * model (./deprecated-models.ts) or sends `thinking: { type: 'enabled' }` to a model on which that is
 * deprecated.
 *
 * Difference from the SDK: by default each warning is printed once per model per process, not on
 * every call, so a batch worker sending thousands of requests logs it once. `'always'` restores the
 * SDK's per-call behaviour; `'off'` silences them. Chosen by the client option
 * `modelDeprecationWarnings` or, when that is not given, the environment variable
 * `AIWIRE_MODEL_DEPRECATION_WARNINGS` (`once` | `always` | `off`).
 */
import { AiwireError } from '../../../core/errors.js';
import { DEPRECATED_MODELS, THINKING_ENABLED_DEPRECATED_MODELS } from './deprecated-models.js';

/**
 * How model deprecation warnings are printed: `'once'` (default) once per model and warning per
 * process, `'always'` on every call (as @anthropic-ai/sdk), `'off'` never.
 */
export type ModelDeprecationWarnings = 'once' | 'always' | 'off';

const MODES: readonly ModelDeprecationWarnings[] = ['once', 'always', 'off'];

/** The environment variable read when the client option is not given. */
export const MODEL_DEPRECATION_WARNINGS_ENV = 'AIWIRE_MODEL_DEPRECATION_WARNINGS';

const DEPRECATIONS_URL = 'https://docs.anthropic.com/en/docs/resources/model-deprecations';
const ADAPTIVE_URL = 'https://platform.claude.com/docs/en/build-with-claude/adaptive-thinking';

/** Warnings already printed in this process (`once` mode): `model` or `thinking:model`. */
const printed = new Set<string>();

/**
 * The mode for a client: `option` if given, else `AIWIRE_MODEL_DEPRECATION_WARNINGS`, else `'once'`.
 * @throws AiwireError when the option or the variable is not one of `once`, `always`, `off`.
 */
export function resolveModelDeprecationWarnings(option: unknown): ModelDeprecationWarnings {
  if (option !== undefined) {
    if (MODES.includes(option as ModelDeprecationWarnings)) return option as ModelDeprecationWarnings;
    throw new AiwireError(
      `modelDeprecationWarnings must be 'once', 'always' or 'off', got ${JSON.stringify(option)}.`,
    );
  }
  const raw = process.env[MODEL_DEPRECATION_WARNINGS_ENV]?.trim().toLowerCase();
  if (!raw) return 'once';
  if (MODES.includes(raw as ModelDeprecationWarnings)) return raw as ModelDeprecationWarnings;
  throw new AiwireError(
    `${MODEL_DEPRECATION_WARNINGS_ENV} must be once, always or off, got ${JSON.stringify(process.env[MODEL_DEPRECATION_WARNINGS_ENV])}: fix or unset it.`,
  );
}

function emit(mode: ModelDeprecationWarnings, key: string, message: string): void {
  if (mode === 'once') {
    if (printed.has(key)) return;
    printed.add(key);
  }
  console.warn(message);
}

/**
 * Prints the warnings that apply to the request body `body` (a Messages API create/stream body) for
 * a client whose mode is `client.modelDeprecationWarnings` (`'once'` when absent). Never throws:
 * a body without a string `model` is left to the API to reject.
 */
export function warnModelDeprecations(
  client: object,
  body: { readonly model?: unknown; readonly thinking?: unknown } | null | undefined,
): void {
  const mode =
    (client as { readonly modelDeprecationWarnings?: ModelDeprecationWarnings }).modelDeprecationWarnings ??
    'once';
  const model = body?.model;
  if (mode === 'off' || typeof model !== 'string') return;
  const endOfLife = Object.hasOwn(DEPRECATED_MODELS, model) ? DEPRECATED_MODELS[model] : undefined;
  if (endOfLife) {
    const once = mode === 'once' ? ' (printed once per model per process)' : '';
    emit(
      mode,
      model,
      `aiwire: the model '${model}' is deprecated and reaches end-of-life on ${endOfLife}; ` +
        `please migrate to a newer model (${DEPRECATIONS_URL}). ` +
        `Set ${MODEL_DEPRECATION_WARNINGS_ENV}=off or the client option modelDeprecationWarnings: 'off' to silence this${once}.`,
    );
  }
  const thinking = body?.thinking as { type?: unknown } | null | undefined;
  if (thinking?.type === 'enabled' && THINKING_ENABLED_DEPRECATED_MODELS.includes(model)) {
    emit(
      mode,
      `thinking:${model}`,
      `aiwire: thinking.type 'enabled' is deprecated on ${model}; use thinking: { type: 'adaptive' } ` +
        `instead (${ADAPTIVE_URL}).`,
    );
  }
}
