// mock: aiwire
// A tour of the AIVillage client: health, a chat with a chosen agent and mode, a RAG query with its
// sources and Bayesian confidence, the agents, the P2P network, the digital twin.
// Reads AIVILLAGE_API_KEY and AIVILLAGE_API_URL (`aiwire mock` serves http://127.0.0.1:4010/aivillage/v1).
import AIVillage from 'aiwire/aivillage';

const client = new AIVillage();

const health = await client.health();
console.log('health:', health.status, health.services);

const chat = await client.chat({
  message: 'How can I optimize my mobile app for battery life?',
  agent_preference: 'navigator',
  mode: 'comprehensive',
  user_context: { device_type: 'mobile', battery_level: 45, network_type: 'cellular' },
});
console.log(`${chat.agent_used} (${chat.processing_time_ms} ms): ${chat.response}`);

// continue the conversation
const followUp = await client.chat({ message: 'And on wifi?', conversation_id: chat.conversation_id });
console.log('follow-up in', followUp.conversation_id);

const rag = await client.query({
  query: 'best practices for distributed AI systems',
  mode: 'analytical',
  max_results: 5,
});
console.log('RAG:', rag.response, `(Bayesian confidence ${rag.metadata?.bayesian_confidence})`);
for (const source of rag.sources ?? []) {
  if ((source.confidence ?? 0) > 0.7) console.log(`  ${source.title} (${source.confidence})`);
}

const { agents = [] } = await client.agents.list({ category: 'knowledge' });
const best = [...agents].sort((a, b) => (a.current_load ?? 1) - (b.current_load ?? 1))[0];
if (!best?.id) throw new Error('no knowledge agent available');
const task = await client.agents.assignTask(best.id, {
  task_description: 'Summarize recent work on federated learning',
  priority: 'high',
  timeout_seconds: 600,
});
console.log(`task ${task.task_id} ${task.status} by ${task.agent_id}`);

const p2p = await client.p2p.status();
const betanet = await client.p2p.peers({ transport: 'betanet' });
console.log(`P2P ${p2p.status}: ${p2p.peer_count} peers, ${betanet.peers?.length} on BetaNet`);

await client.digitalTwin.profile.update({
  data_type: 'interaction',
  data_points: [
    {
      timestamp: new Date().toISOString(),
      content: { interaction_type: 'chat', user_satisfaction: 0.9 },
      prediction_accuracy: 0.8,
    },
  ],
});
const profile = await client.digitalTwin.profile.retrieve();
console.log('digital twin:', profile.learning_stats);
