/**
 * `AzureOpenAI`: the OpenAI resources over Azure OpenAI's wire conventions, as openai-node's
 * `AzureOpenAI`: `api-key` header (or a Microsoft Entra ID token as `Authorization: Bearer`), the
 * `api-version` query parameter on every request, and deployment-routed operations sent under
 * `/deployments/{deployment or model}`.
 * Reference: https://learn.microsoft.com/azure/ai-services/openai/reference
 */

import type { FinalRequestOptions } from '../../core/client.js';
import { AiwireError } from '../../core/errors.js';
import type { ProviderSpec } from '../../core/provider.js';
import { type ClientOptions, OpenAI } from './client.js';
import { openAISpec } from './spec.js';

/** Azure OpenAI's wire conventions: OpenAI's, with Azure's request-id headers. */
export const azureOpenAISpec: ProviderSpec = {
  ...openAISpec,
  name: 'Azure OpenAI',
  telemetryName: 'azure.ai.openai',
  requestIdHeaders: ['x-request-id', 'apim-request-id'],
};

/** Operations Azure routes per deployment (`/deployments/{deployment}/…`). */
const DEPLOYMENT_PATHS = new Set([
  '/completions',
  '/chat/completions',
  '/embeddings',
  '/audio/transcriptions',
  '/audio/translations',
  '/audio/speech',
  '/images/generations',
  '/images/edits',
]);

/** Options of `new AzureOpenAI()` (openai-node's names; every one optional where the env fills it). */
export interface AzureClientOptions extends ClientOptions {
  /** `api-version` query parameter; default `process.env.OPENAI_API_VERSION`. Required. */
  apiVersion?: string | undefined;
  /** Resource endpoint, e.g. `https://example.openai.azure.com`; default `process.env.AZURE_OPENAI_ENDPOINT`. */
  endpoint?: string | undefined;
  /** A fixed deployment: every request goes to `{endpoint}/openai/deployments/{deployment}`. */
  deployment?: string | undefined;
  /** API key; default `process.env.AZURE_OPENAI_API_KEY`. Sent as `api-key`, never logged. */
  apiKey?: string | undefined;
  /** A Microsoft Entra ID access token, sent as `Authorization: Bearer` instead of `api-key`. */
  azureADToken?: string | undefined;
}

/**
 * Azure OpenAI client. `baseURL` is `{endpoint}/openai` (or `…/deployments/{deployment}` with a fixed
 * deployment); give either `baseURL` or `endpoint`, not both.
 *
 * @throws AiwireError when no API version, no credential (`apiKey`, `AZURE_OPENAI_API_KEY` or
 *   `azureADToken`), or neither `baseURL` nor `endpoint` is given (either is not needed with
 *   `endpoints`: each endpoint's `baseURL` is `{endpoint}/openai`), or both are.
 */
export class AzureOpenAI extends OpenAI {
  /** The `api-version` sent with every request. */
  readonly apiVersion: string;
  /** The fixed deployment, if any. */
  readonly deploymentName: string | undefined;
  readonly #azureOptions: AzureClientOptions;

  constructor(options: AzureClientOptions = {}) {
    const {
      apiVersion = process.env.OPENAI_API_VERSION,
      endpoint = process.env.AZURE_OPENAI_ENDPOINT,
      deployment,
      azureADToken,
      apiKey = process.env.AZURE_OPENAI_API_KEY,
      baseURL = process.env.OPENAI_BASE_URL,
      ...rest
    } = options;
    if (!apiVersion) {
      throw new AiwireError(
        "The OPENAI_API_VERSION environment variable is missing or empty; either provide it, or instantiate the AzureOpenAI client with an apiVersion option, like new AzureOpenAI({ apiVersion: 'My API Version' }).",
      );
    }
    if (!apiKey && !azureADToken && !rest.endpoints) {
      throw new AiwireError(
        'Missing credentials. Please pass an `apiKey` or `azureADToken`, or set the `AZURE_OPENAI_API_KEY` environment variable.',
      );
    }
    if (baseURL && endpoint) {
      throw new AiwireError('baseURL and endpoint are mutually exclusive: give one of them.');
    }
    let base = baseURL;
    // With endpoints, the first endpoint's base URL is the client's.
    if (!base && !rest.endpoints) {
      if (!endpoint) {
        throw new AiwireError(
          'Must provide one of the `baseURL` or `endpoint` arguments, or the `AZURE_OPENAI_ENDPOINT` environment variable',
        );
      }
      base = `${endpoint.replace(/\/+$/, '')}/openai`;
      if (deployment) base += `/deployments/${encodeURIComponent(deployment)}`;
    }
    const clientKey = apiKey ?? (azureADToken ? 'azure-ad-token' : undefined);
    super(
      {
        ...rest,
        apiKey: clientKey ?? '', // not OPENAI_API_KEY: an Azure client without a key of its own has none
        baseURL: base,
        defaultQuery: { ...rest.defaultQuery, 'api-version': apiVersion },
      },
      azureOpenAISpec,
      // An endpoint's own key goes as `api-key`; the client's as `api-key`, or its Entra ID token.
      (key) =>
        azureADToken && key === clientKey ? { authorization: `Bearer ${azureADToken}` } : { 'api-key': key },
    );
    this.apiVersion = apiVersion;
    this.deploymentName = deployment;
    this.#azureOptions = options;
  }

  /** Deployment-routed operations go to `/deployments/{body.model}/…` unless a deployment is fixed. */
  protected override prepareRequest(_method: string, path: string, opts: FinalRequestOptions): string {
    const model = (opts.body as { model?: unknown } | undefined)?.model;
    if (!this.deploymentName && DEPLOYMENT_PATHS.has(path) && typeof model === 'string' && model) {
      return `/deployments/${encodeURIComponent(model)}${path}`;
    }
    return path;
  }

  /** A new Azure client with these options over this one's. */
  override withOptions(options: Partial<AzureClientOptions>): this {
    const Ctor = this.constructor as new (options: AzureClientOptions) => this;
    return new Ctor({ ...this.#azureOptions, ...options });
  }
}
