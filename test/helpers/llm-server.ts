/**
 * An OpenAI-compatible test server (real HTTP on a free loopback port): what vLLM, Ollama and
 * llama.cpp's server answer on GET /v1/models and POST /v1/chat/completions. No model weights can
 * be had on these machines, so this stands in for the LLM (DESIGN.md: doubles only at the edges we
 * cannot run). Each completion takes the next behaviour from a queue (or the default one).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { freePort } from './servers.ts';

export type Behaviour =
  | { kind: 'valid'; brief?: Record<string, unknown>; latencyMs?: number }
  | { kind: 'status'; status: number; latencyMs?: number; retryAfter?: string }
  | { kind: 'not-json'; latencyMs?: number }
  | { kind: 'schema-violating'; latencyMs?: number }
  | { kind: 'hang' };

export const VALID_BRIEF = {
  language: 'en',
  mood: ['warm'],
  season: ['winter'],
  notesPreference: { families: ['ambery/balsamic'], top: [], heart: [], base: ['amber'] },
  forbiddenIngredients: ['musk'],
  budgetTier: 'mid',
  targetProfile: 'unisex',
  constraints: [],
  productCategory: 'EDP',
  creativeHints: ['winter evening by the fire'],
};

export interface LlmTestServer {
  readonly url: string;
  /** Requests received, in order (path and, for completions, the messages). */
  readonly requests: Array<{ path: string; messages?: Array<{ role: string; content: string }>; maxTokens?: number }>;
  enqueue(...behaviours: Behaviour[]): void;
  setDefault(behaviour: Behaviour): void;
  setModelsStatus(status: number): void;
  stop(): Promise<void>;
}

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startLlmServer(model = 'qwen'): Promise<LlmTestServer> {
  const queue: Behaviour[] = [];
  let fallback: Behaviour = { kind: 'valid' };
  let modelsStatus = 200;
  const requests: LlmTestServer['requests'] = [];
  const hanging = new Set<() => void>();
  const server: Server = createServer(async (request, response) => {
    const text = await body(request);
    if (request.method === 'GET' && request.url === '/v1/models') {
      requests.push({ path: '/v1/models' });
      response.writeHead(modelsStatus, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', owned_by: 'test' }] }));
      return;
    }
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      response.writeHead(404).end();
      return;
    }
    const parsed = JSON.parse(text) as { messages: Array<{ role: string; content: string }>; max_tokens?: number };
    requests.push({ path: '/v1/chat/completions', messages: parsed.messages, ...(parsed.max_tokens === undefined ? {} : { maxTokens: parsed.max_tokens }) });
    const behaviour = queue.shift() ?? fallback;
    if (behaviour.kind === 'hang') {
      // Answers nothing until the client gives up (or the server stops).
      await new Promise<void>((resolve) => {
        hanging.add(resolve);
        request.socket.once('close', resolve);
      });
      return;
    }
    if (behaviour.latencyMs) await new Promise((resolve) => setTimeout(resolve, behaviour.latencyMs));
    if (behaviour.kind === 'status') {
      response.writeHead(behaviour.status, { 'content-type': 'application/json', ...(behaviour.retryAfter === undefined ? {} : { 'retry-after': behaviour.retryAfter }) });
      response.end(JSON.stringify({ error: { message: `test server says ${behaviour.status}`, type: 'test' } }));
      return;
    }
    const content =
      behaviour.kind === 'valid' ? JSON.stringify(behaviour.brief ?? VALID_BRIEF) : behaviour.kind === 'not-json' ? 'Here is your brief: warm amber!' : JSON.stringify({ ...VALID_BRIEF, mood: ['grumpy'], extra: true });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        id: `chatcmpl-${requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
      }),
    );
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...behaviours) => queue.push(...behaviours),
    setDefault: (behaviour) => {
      fallback = behaviour;
    },
    setModelsStatus: (status) => {
      modelsStatus = status;
    },
    stop: async () => {
      for (const release of hanging) release();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
