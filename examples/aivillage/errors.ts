// mock: aiwire
// AIVillage's typed errors: a validation error names each refused field; a rate limit says how long to
// wait; a 5xx after the retries is a server error. On the mock, the header `x-mock-error: <status>` or
// the message `mock-error-<status>` asks for an error, and `mock-error-500-once` fails only the first
// attempt: the retry (same Idempotency-Key) succeeds.
import AIVillage, {
  AIVillageRateLimitError,
  AIVillageServerError,
  AIVillageValidationError,
  type ChatParams,
} from 'aiwire/aivillage';

const client = new AIVillage();

try {
  await client.chat({ message: 'hi', mode: 'turbo' } as unknown as ChatParams);
  throw new Error('expected a validation error');
} catch (err) {
  if (!(err instanceof AIVillageValidationError)) throw err;
  console.log('validation error:', err.status, err.errorCode);
  for (const f of err.fieldErrors) console.log(`  ${f.location}.${f.field}: ${f.message}`);
}

try {
  await client.p2p.status({ headers: { 'x-mock-error': '429' }, maxRetries: 0 });
  throw new Error('expected a rate limit');
} catch (err) {
  if (!(err instanceof AIVillageRateLimitError)) throw err;
  console.log(
    `rate limited: retry after ${err.retryAfterMs} ms (${err.limit} requests per ${err.windowSeconds} s)`,
  );
}

try {
  await client.chat({ message: 'mock-error-503' });
  throw new Error('expected a server error');
} catch (err) {
  if (!(err instanceof AIVillageServerError)) throw err;
  console.log('server error:', err.status, err.errorCode, 'request', err.requestID);
}

// the first attempt fails with 500; the engine retries with the same Idempotency-Key
const recovered = await client.chat({ message: 'mock-error-500-once' });
console.log('recovered after a retry:', recovered.response);
