import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { ErrorCodes, FaiError } from '../../src/errors/index.ts';
import { installErrorHandling } from '../../src/server/error-mapping.ts';

describe('error mapping under an outage', () => {
  it('logs a dependency outage (503) once per message a minute, with how many alike, not a line per request; a 500 is logged each time', async () => {
    const lines: Array<{ level: number; msg: string; alike?: number; err?: unknown }> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
        done();
      },
    });
    const app = Fastify({ loggerInstance: pino({ level: 'info' }, sink) as FastifyBaseLogger, disableRequestLogging: true });
    installErrorHandling(app);
    app.get('/down', async () => {
      throw new FaiError(ErrorCodes.UNAVAILABLE, 'redis HGET failed: Connection is closed.');
    });
    app.get('/bug', async () => {
      throw new Error('a bug');
    });
    await app.ready();
    for (let i = 0; i < 200; i++) assert.equal((await app.inject({ url: '/down' })).statusCode, 503);
    for (let i = 0; i < 3; i++) assert.equal((await app.inject({ url: '/bug' })).statusCode, 500);
    await app.close();
    const outage = lines.filter((l) => l.msg.includes('redis HGET failed'));
    assert.equal(outage.length, 1, 'one line for 200 failed requests');
    assert.equal(outage[0]!.err, undefined, 'no stack trace');
    assert.equal(lines.filter((l) => l.msg === 'unhandled error').length, 3);
  });
});
