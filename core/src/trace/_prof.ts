import { canonicalizeJs } from './canonical-json.js';
import { sampleRequest } from './trace-fixtures.js';
import { chainHash } from './chain.js';
const recs = Array.from({ length: 1000 }, (_, i) => { const r = sampleRequest(i); return { cache: r.cache, chunk_id: 3, denoise: {adaptive: false, steps_configured: 1, steps_used: 1}, kind: 'request', latency: r.latency, request: {episode_id: 'ep', image_sha256: null, instruction: null, request_id: 'r', state: r.request.state}, response: {action_dim: 2, actions: r.response!.actions, num_actions: 8}, schema_version: 1, seq: i, timestamp: 1767225600.123 + i }; });
for (let r = 0; r < 5; r++) {
  const c0 = process.cpuUsage(); let n = 0; let h = '0'.repeat(64);
  for (let i = 0; i < 100000; i++) { const b = canonicalizeJs(recs[i % 1000]); h = chainHash(h, b); n += b.length; }
  const c = process.cpuUsage(c0);
  console.log('serialize+hash µs/record (cpu)', ((c.user + c.system) / 100000).toFixed(2));
}
