/**
 * Binary responses whose body streams (audio, file contents): the engine reads the body in `raw` mode
 * (no SSE decoding) and each `nextBatch()` hands over the bytes read since the last one; this wraps
 * that as a WHATWG `Response` whose `body` is a pull-based `ReadableStream`, so a slow reader holds the
 * engine back (at most ~1 MiB pending natively) and memory stays flat.
 */
import type * as Binding from '../native/binding.js';
import { type NativeResult, openStream } from '../native/settle.js';
import type { ProviderSpec } from './provider.js';
import { errorFromNative, toResponse } from './response.js';

/**
 * Send `req` and resolve, once the response head is in (after retries), to a `Response` with the
 * status and headers and a streamed `body`.
 *
 * - A non-2xx answer (after retries) rejects with the typed error (`NotFoundError`, …, via
 *   `errorFromNative`), as every other request; so do connection failures and timeouts before the head.
 * - The body is pulled: each read of `response.body` takes one batch of bytes from the engine.
 *   A failure mid-body (connection lost, stream idle timeout, cancellation) errors the stream with the
 *   same typed error (`APIConnectionError`, `APIConnectionTimeoutError`, `APIUserAbortError`).
 * - Cancelling `response.body` (or `cancelToken.cancel()`) cancels the native stream and closes the
 *   connection.
 *
 * @param binding the addon (`loadNative()`).
 * @param engine the client's engine.
 * @param req the request (`accept` header and body as usual; `decode` is ignored).
 * @param cancelToken cancels the request and, later, the body.
 * @param spec the provider's error-body reading (default: the whole body is the error).
 * @param settled called exactly once when the request is over: on rejection, at the end of the body,
 *   on a body error, or when the body is cancelled (use it to remove an AbortSignal listener).
 * @throws (rejects) what `engine.stream` throws synchronously (invalid method, timeout, body).
 */
export function openBinaryResponse(
  binding: typeof Binding,
  engine: Binding.NativeEngine,
  req: Binding.NativeRequest,
  cancelToken?: Binding.CancelToken,
  settled?: () => void,
  spec?: Pick<ProviderSpec, 'errorBody' | 'statusError'>,
): Promise<Response> {
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    settled?.();
  };
  let opened: ReturnType<typeof openStream>;
  try {
    opened = openStream(binding, engine, req, cancelToken, { raw: true });
  } catch (e) {
    finish();
    return Promise.reject(e);
  }
  const { handle, head } = opened;
  return head.then((res: NativeResult) => {
    if (!res.ok) {
      finish();
      throw errorFromNative(res, spec);
    }
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          for (;;) {
            const batch = await handle.nextBatch();
            const bytes = batch.bytes;
            if (bytes && bytes.length > 0) {
              controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
            }
            if (batch.done) {
              finish();
              if (batch.errorKind) {
                controller.error(
                  errorFromNative({
                    ok: false,
                    status: 0,
                    headers: [],
                    attempts: res.attempts,
                    errorKind: batch.errorKind,
                    errorMessage: batch.errorMessage,
                    errorCode: batch.errorCode ?? undefined,
                  }),
                );
              } else {
                controller.close();
              }
              return;
            }
            if (bytes && bytes.length > 0) return;
          }
        },
        cancel() {
          handle.cancel();
          finish();
        },
      },
      { highWaterMark: 0 },
    );
    return toResponse(res, body);
  });
}
