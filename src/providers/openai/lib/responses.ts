/**
 * Responses API helpers: `output_text`, the concatenated text of every `output_text` content part of
 * a response's message items, added on the client as openai-node does (the API does not send it).
 * Reference: https://platform.openai.com/docs/api-reference/responses/object
 */

interface ResponseLike {
  object?: unknown;
  output?: Array<{ type?: string; content?: Array<{ type?: string; text?: unknown }> | null }> | null;
  output_text?: unknown;
}

/**
 * Set `output_text` on a response object (`object: 'response'`) to the text of its output messages,
 * joined without a separator (`''` when there is none). Anything else (a `Stream`, another object)
 * is returned unchanged.
 */
export function addOutputText<T>(value: T): T {
  const rsp = value as ResponseLike | null;
  if (!rsp || typeof rsp !== 'object' || rsp.object !== 'response') return value;
  const texts: string[] = [];
  for (const item of rsp.output ?? []) {
    if (item?.type !== 'message') continue;
    for (const part of item.content ?? []) {
      if (part?.type === 'output_text' && typeof part.text === 'string') texts.push(part.text);
    }
  }
  rsp.output_text = texts.join('');
  return value;
}
