import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { requestLoggers } from '../../src/server/request-log.ts';

/** A pino logger at `level` whose lines land in `lines`, parsed. */
function capture(level: string): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/** A Fastify app without a logger of its own whose requests get `logger`'s lazy loggers, as the service's do (app.ts). */
function appWith(logger: pino.Logger): FastifyInstance {
  const app = Fastify({ logger: false, requestIdHeader: 'x-request-id' });
  const give = requestLoggers(logger);
  app.addHook('onRequest', (request, reply, done) => {
    give(request, reply);
    done();
  });
  return app;
}

describe("a request's logger, made when the request first logs", () => {
  it('writes the lines a pino child would (request id, level, message) and nothing below the level', async () => {
    const { logger, lines } = capture('info');
    const app = appWith(logger);
    app.get('/', async (request, reply) => {
      assert.equal(request.log.level, 'info');
      request.log.debug({ detail: 1 }, 'not kept');
      request.log.info({ detail: 2 }, 'kept %s', 'here');
      reply.log.error(new Error('boom'));
      request.log.child({ step: 'x' }).warn('deeper');
      return { ok: true };
    });
    try {
      assert.equal((await app.inject({ url: '/', headers: { 'x-request-id': 'req-7' } })).statusCode, 200);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(lines.length, 3);
      assert.deepEqual({ reqId: lines[0]!.reqId, detail: lines[0]!.detail, msg: lines[0]!.msg, level: lines[0]!.level }, { reqId: 'req-7', detail: 2, msg: 'kept here', level: 30 });
      assert.equal((lines[1]!.err as { message: string }).message, 'boom');
      assert.equal(lines[1]!.reqId, 'req-7');
      assert.deepEqual({ reqId: lines[2]!.reqId, step: lines[2]!.step, msg: lines[2]!.msg }, { reqId: 'req-7', step: 'x', msg: 'deeper' });
    } finally {
      await app.close();
    }
  });

  it('makes no pino child for a request that writes nothing', async () => {
    let children = 0;
    const lines: string[] = [];
    const logger = pino({ level: 'info', onChild: () => children++ }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
    const app = appWith(logger);
    app.get('/quiet', async (request) => {
      request.log.debug('below the level');
      return { ok: true };
    });
    app.get('/speaks', async (request) => {
      request.log.info('handled');
      return { ok: true };
    });
    try {
      await app.ready();
      for (let i = 0; i < 3; i++) assert.equal((await app.inject({ url: '/quiet' })).statusCode, 200);
      assert.equal(children, 0, 'a pino child was made for a request that wrote no line');
      assert.equal((await app.inject({ url: '/speaks', headers: { 'x-request-id': 'abc-1' } })).statusCode, 200);
      assert.equal(children, 1, 'the request that wrote a line has its child');
      await new Promise((resolve) => setImmediate(resolve));
      const line = lines.map((text) => JSON.parse(text) as Record<string, unknown>).find((l) => l.msg === 'handled');
      assert.equal(line?.reqId, 'abc-1');
    } finally {
      await app.close();
    }
  });
});
