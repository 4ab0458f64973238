import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import Fastify, { LogController } from 'fastify';
import { pino } from 'pino';
import { withLazyRequestLoggers } from '../../src/server/request-log.ts';

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

describe("a request's logger, made when the request first logs", () => {
  it('writes the lines a pino child would (bindings, level, message) and nothing below the level', async () => {
    const { logger, lines } = capture('info');
    const child = withLazyRequestLoggers(logger).child({ reqId: 'req-7' }, {});
    assert.equal(child.level, 'info');
    child.debug({ detail: 1 }, 'not kept');
    child.info({ detail: 2 }, 'kept %s', 'here');
    child.error(new Error('boom'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 2);
    assert.deepEqual({ reqId: lines[0]!.reqId, detail: lines[0]!.detail, msg: lines[0]!.msg, level: lines[0]!.level }, { reqId: 'req-7', detail: 2, msg: 'kept here', level: 30 });
    assert.equal((lines[1]!.err as { message: string }).message, 'boom');
    assert.equal(lines[1]!.reqId, 'req-7');
    const grandchild = child.child({ step: 'x' });
    grandchild.warn('deeper');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual({ reqId: lines[2]!.reqId, step: lines[2]!.step }, { reqId: 'req-7', step: 'x' });
  });

  it('makes no pino child for a request that writes nothing, in Fastify (which makes its own logger from the instance first)', async () => {
    let children = 0;
    const lines: string[] = [];
    const logger = pino({ level: 'info', onChild: () => children++ }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
    const app = Fastify({ loggerInstance: withLazyRequestLoggers(logger), logController: new LogController({ disableRequestLogging: true }) });
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
      const before = children;
      for (let i = 0; i < 3; i++) assert.equal((await app.inject({ url: '/quiet' })).statusCode, 200);
      assert.equal(children, before, 'a pino child was made for a request that wrote no line');
      assert.equal((await app.inject({ url: '/speaks' })).statusCode, 200);
      assert.equal(children, before + 1, 'the request that wrote a line has its child');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(lines.filter((line) => line.includes('"handled"')).length, 1);
    } finally {
      await app.close();
    }
  });

  it("is each request's logger in Fastify: a route's line carries its request id", async () => {
    const { logger, lines } = capture('info');
    const app = Fastify({ loggerInstance: withLazyRequestLoggers(logger), logController: new LogController({ disableRequestLogging: true }), requestIdHeader: 'x-request-id' });
    app.get('/', async (request) => {
      request.log.info('handled');
      return { ok: true };
    });
    try {
      const answer = await app.inject({ url: '/', headers: { 'x-request-id': 'abc-1' } });
      assert.equal(answer.statusCode, 200);
      await new Promise((resolve) => setImmediate(resolve));
      const line = lines.find((l) => l.msg === 'handled');
      assert.equal(line?.reqId, 'abc-1');
    } finally {
      await app.close();
    }
  });
});
