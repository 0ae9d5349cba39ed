// mock: aiwire
// RAG, then chat: get background from the RAG system, then ask an agent with that background in the
// message (the seed SDK's `process_pipeline`). Both calls retry on 429 / 5xx with the same
// Idempotency-Key, so a retried chat is never answered twice.
import AIVillage, { type ChatResponse, type QueryResponse } from 'aiwire/aivillage';

const client = new AIVillage();

interface PipelineResult {
  rag: QueryResponse;
  chat: ChatResponse;
  /** Wall time of both calls, in ms. */
  durationMs: number;
}

async function ragThenChat(question: string): Promise<PipelineResult> {
  const started = performance.now();
  const rag = await client.query({
    query: `Background information: ${question}`,
    mode: 'fast',
    include_sources: true,
    max_results: 5,
  });
  const chat = await client.chat({
    message: `Based on this background: ${rag.response}\n\nUser question: ${question}`,
    agent_preference: 'sage',
    mode: 'comprehensive',
  });
  return { rag, chat, durationMs: performance.now() - started };
}

const result = await ragThenChat('How do P2P mesh networks keep edge AI working offline?');
console.log(
  `RAG (${result.rag.sources?.length} sources, confidence ${result.rag.metadata?.bayesian_confidence})`,
);
console.log(`${result.chat.agent_used}: ${result.chat.response}`);
console.log(`pipeline took ${result.durationMs.toFixed(1)} ms`);
if (!result.chat.response?.includes('Based on this background'))
  throw new Error('the chat did not get the background');
