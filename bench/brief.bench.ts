/**
 * What the brief layer adds per request — routing, breaker, validation against the schema,
 * metrics — measured against an OpenAI-compatible test server that answers at once, side by side
 * with a bare `openai` client call to the same server in the same run. Target: ≤ 1 ms added at p50.
 * Also: local-model briefs per second.
 *
 *   make bench-brief
 */
import OpenAI from 'openai';
import { BriefService, localBrief } from '../src/llm/index.ts';
import { createMetrics } from '../src/metrics/index.ts';
import { startLlmServer } from '../test/helpers/llm-server.ts';

const server = await startLlmServer('qwen');
const text = 'a warm amber for winter evenings, no musk';
const bare = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
const layer = new BriefService({ slots: [{ name: 'qwen', baseUrl: server.url, model: 'qwen' }], metrics: createMetrics({ defaultMetrics: false }) });

async function timeEach(count: number, run: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await run();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}
const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

const bareCall = () => bare.chat.completions.create({ model: 'qwen', messages: [{ role: 'user', content: text }], response_format: { type: 'json_object' } });
const layerCall = () => layer.generate(text, 'balanced');
await timeEach(200, bareCall);
await timeEach(200, layerCall);
// Alternating rounds, so drift on this machine hits both alike.
const bareTimes: number[] = [];
const layerTimes: number[] = [];
for (let round = 0; round < 5; round++) {
  bareTimes.push(...(await timeEach(200, bareCall)));
  layerTimes.push(...(await timeEach(200, layerCall)));
}
bareTimes.sort((a, b) => a - b);
layerTimes.sort((a, b) => a - b);
console.log('per brief against a test server answering at once (1000 calls each, ms):');
console.log(`  bare openai client   p50 ${pct(bareTimes, 0.5).toFixed(3)}  p95 ${pct(bareTimes, 0.95).toFixed(3)}  p99 ${pct(bareTimes, 0.99).toFixed(3)}`);
console.log(`  brief layer          p50 ${pct(layerTimes, 0.5).toFixed(3)}  p95 ${pct(layerTimes, 0.95).toFixed(3)}  p99 ${pct(layerTimes, 0.99).toFixed(3)}`);
const added = pct(layerTimes, 0.5) - pct(bareTimes, 0.5);
console.log(`  added at p50: ${added.toFixed(3)} ms (ratio ${(pct(layerTimes, 0.5) / pct(bareTimes, 0.5)).toFixed(2)}); target ≤ 1 ms`);

const texts = ['여름 바다 느낌, 상큼하고 가벼운 향. 바닐라는 싫어요', text, 'Romantic rose and jasmine eau de toilette for her, long-lasting', '겨울에 어울리는 따뜻한 우디 향수, 머스크 빼고 샌달우드는 좋아요'];
for (let i = 0; i < 2_000; i++) localBrief(texts[i % texts.length]!);
const started = performance.now();
let count = 0;
while (performance.now() - started < 1_000) localBrief(texts[count++ % texts.length]!);
console.log(`local model: ${Math.round((count * 1000) / (performance.now() - started)).toLocaleString('en')} briefs/s (${((performance.now() - started) * 1000 / count).toFixed(1)} µs each)`);
await server.stop();
