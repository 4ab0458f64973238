import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { rateLimit, type RateLimitJudge } from '../../src/server/rate-limit.ts';

// The judge on its own, at times the test chooses: requests on connections (sockets) of a few client addresses.
const app = Fastify();
after(() => app.close());

function limit(perMinute: number): RateLimitJudge {
  const judge = rateLimit(app, perMinute, () => 0);
  assert.ok(judge);
  return judge;
}

const socket = (address: string) => ({ remoteAddress: address }) as Socket;
// As Fastify's request: the URL as sent is its raw message's (request.url reads it from there).
const request = (on: Socket, url = '/health') => ({ raw: { url, socket: on } }) as unknown as FastifyRequest;
function reply(): FastifyReply & { headers: Record<string, unknown> } {
  const headers: Record<string, unknown> = {};
  const answer = {
    headers,
    header(name: string, value: unknown) {
      headers[name] = value;
      return answer;
    },
  };
  return answer as unknown as FastifyReply & { headers: Record<string, unknown> };
}

describe('the rate limit, judged at the request clock', () => {
  it("allows perMinute requests of a connection in its minute, refuses the rest with when to retry, and allows again once the minute is over", () => {
    const judge = limit(3);
    const connection = socket('10.1.0.1');
    const at = (ms: number) => judge(request(connection), reply(), 1_000_000 + ms);
    assert.deepEqual([at(0), at(10), at(20)], [undefined, undefined, undefined]);
    const refused = reply();
    const error = judge(request(connection), refused, 1_000_000 + 30_500);
    assert.equal(error?.code, 'FAI_ERR_TOO_MANY_REQUESTS');
    assert.deepEqual(refused.headers, { 'x-ratelimit-limit': 3, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': 30, 'retry-after': 30 });
    assert.notEqual(at(59_999), undefined, 'still the same minute');
    assert.equal(at(60_000), undefined, 'a new minute');
    assert.deepEqual([at(60_001), at(60_002)], [undefined, undefined]);
    assert.notEqual(at(60_003), undefined);
  });

  it("counts every connection of one address in the address's one window; another address has its own", () => {
    const judge = limit(4);
    const first = socket('10.2.0.1');
    const second = socket('10.2.0.1');
    const now = 5_000_000;
    const statuses = [first, second, first, second, first, second].map((on) => (judge(request(on), reply(), now) === undefined ? 'ok' : 'refused'));
    assert.deepEqual(statuses, ['ok', 'ok', 'ok', 'ok', 'refused', 'refused']);
    assert.equal(judge(request(socket('10.2.0.2')), reply(), now), undefined);
    // Past the minute, the connection that counted last finds its window ended: both find the new one.
    assert.equal(judge(request(second), reply(), now + 60_000), undefined);
    assert.equal(judge(request(first), reply(), now + 60_001), undefined);
  });

  it("gives Alertmanager's webhook a bucket of its own per address", () => {
    const judge = limit(2);
    const connection = socket('10.3.0.1');
    const now = 9_000_000;
    for (let i = 0; i < 2; i++) assert.equal(judge(request(connection), reply(), now), undefined);
    assert.notEqual(judge(request(connection), reply(), now), undefined, 'the public allowance is spent');
    assert.equal(judge(request(connection, '/v1/alerts/webhook'), reply(), now), undefined);
    assert.equal(judge(request(connection, '/v1/alerts/webhook?x=1'), reply(), now), undefined);
    assert.notEqual(judge(request(connection, '/v1/alerts/webhook'), reply(), now), undefined);
    assert.notEqual(judge(request(connection, '/v1/alerts/webhooks'), reply(), now), undefined, 'another path is public traffic');
  });
});
