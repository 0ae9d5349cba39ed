// mock: aiwire
// Handling API errors: instanceof checks, status, request id, and the error body's fields.
import OpenAI, { NotFoundError } from 'aiwire';

const client = new OpenAI();

try {
  await client.models.retrieve('gpt-does-not-exist');
  throw new Error('expected a 404');
} catch (err) {
  if (err instanceof NotFoundError) {
    console.log('Caught NotFoundError');
    console.log('status:', err.status);
    console.log('request id:', err.requestID);
    console.log('message:', err.message);
    console.log('code:', err.code, 'type:', err.type, 'param:', err.param);
    console.log('header x-request-id:', err.headers.get('x-request-id'));
    if (err.status !== 404 || !err.requestID || err.code !== 'model_not_found') throw err;
  } else {
    throw err;
  }
}

// The base class catches every HTTP error; connection problems have their own class.
const offline = new OpenAI({ baseURL: 'http://127.0.0.1:1/v1', maxRetries: 0 });
try {
  await offline.models.list();
  throw new Error('expected a connection error');
} catch (err) {
  if (err instanceof OpenAI.APIConnectionError) {
    console.log('Caught APIConnectionError:', err.message);
  } else if (err instanceof OpenAI.APIError) {
    console.log(err.status, err.name, err.headers);
    throw err;
  } else {
    throw err;
  }
}
