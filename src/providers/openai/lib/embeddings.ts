/**
 * Embeddings responses: vectors decoded by the engine (one Float64Array for the whole response)
 * become `number[]` per item, as openai-node returns them.
 */
import type { APIPromise, RawResponse } from '../../../core/api-promise.js';
import type { BaseClient, RequestOptions } from '../../../core/client.js';
import { parseJSONBody } from '../../../core/response.js';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from '../resources/embeddings.js';

type NativeResult = RawResponse['native'];

/** base64 of little-endian float32 values → numbers (the JS path when the engine did not decode). */
function numbersFromBase64(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(bytes.byteLength >> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/**
 * The parsed `CreateEmbeddingResponse` with each `data[i].embedding` as `number[]`.
 *
 * With `keepBase64` (the caller asked for `encoding_format: 'base64'`) the strings are left as sent.
 * A preallocated array filled in a loop costs ~0.45 ms per 153,600 values here; `Array.from` of a
 * subarray ~4.5 ms.
 * @throws APIResponseDecodeError when the body is not JSON.
 */
export function embeddingsFromNative(res: NativeResult, keepBase64: boolean): CreateEmbeddingResponse {
  const { vectors, vectorOffsets, decodedBody } = res;
  const parsed = (
    vectors && decodedBody !== undefined ? JSON.parse(decodedBody) : parseJSONBody(res)
  ) as CreateEmbeddingResponse;
  const data = parsed?.data;
  if (!Array.isArray(data)) return parsed;
  if (vectors && vectorOffsets && vectorOffsets.length === data.length + 1) {
    for (let i = 0; i < data.length; i++) {
      const start = vectorOffsets[i] as number;
      const out = new Array<number>((vectorOffsets[i + 1] as number) - start);
      for (let j = 0; j < out.length; j++) out[j] = vectors[start + j] as number;
      (data[i] as { embedding: unknown }).embedding = out;
    }
    return parsed;
  }
  if (!keepBase64) {
    for (const item of data) {
      const e = (item as { embedding: unknown }).embedding;
      if (typeof e === 'string') (item as { embedding: unknown }).embedding = numbersFromBase64(e);
    }
  }
  return parsed;
}

/**
 * `embeddings.create`: without an explicit `encoding_format`, ask for base64 (4 bytes per value on the
 * wire instead of ~20) and hand back numbers, as openai-node does; the engine decodes either format
 * into one Float64Array (`float-vectors` decoder), so no base64 or number parsing runs in JS.
 *
 * @throws BadRequestError / UnprocessableEntityError for invalid input, and the usual API errors.
 */
export function createEmbeddings(
  client: BaseClient,
  body: EmbeddingCreateParams,
  options?: RequestOptions,
): APIPromise<CreateEmbeddingResponse> {
  const asked = body.encoding_format;
  return client.requestWith<CreateEmbeddingResponse>(
    {
      ...options,
      method: 'post',
      path: '/embeddings',
      body: asked ? body : { ...body, encoding_format: 'base64' },
      decode: asked === 'base64' ? undefined : { kind: 'float-vectors', field: 'embedding' },
    },
    (raw) => embeddingsFromNative(raw.native, asked === 'base64'),
  );
}
