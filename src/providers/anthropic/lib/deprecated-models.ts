/**
 * Claude models Anthropic has deprecated, with the date each reaches end-of-life (requests to it
 * fail after that day), and the models on which `thinking: { type: 'enabled' }` is deprecated in
 * favour of `thinking: { type: 'adaptive' }`. Data only: read by ./model-warnings.ts.
 *
 * Source: Anthropic's model deprecations page
 * (https://docs.anthropic.com/en/docs/resources/model-deprecations), as listed by @anthropic-ai/sdk
 * 1.13.0 (its internal data files); checked 2026-11-30. Models already retired are left out: the API
 * answers them with an error of its own. Update this file when Anthropic announces a deprecation.
 */

/** Model id → end-of-life date (ISO 8601, `YYYY-MM-DD`, UTC). */
export const DEPRECATED_MODELS: Readonly<Record<string, string>> = {
  'claude-mythos-preview': '2026-06-30',
  'claude-opus-4-5': '2027-01-22',
  'claude-opus-4-5-20251101': '2027-01-22',
  'claude-sonnet-4-5': '2026-11-30',
  'claude-sonnet-4-5-20250929': '2026-11-30',
};

/** Models on which `thinking.type = 'enabled'` is deprecated (use `'adaptive'`). */
export const THINKING_ENABLED_DEPRECATED_MODELS: readonly string[] = [
  'claude-opus-4-6',
  'claude-mythos-preview',
];

/** When this list was last checked against the source (ISO 8601 date). */
export const DEPRECATIONS_CHECKED = '2026-11-30';
