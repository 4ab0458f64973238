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

  it('answers 400 malformed body only for a body that did not parse; a SyntaxError from our own state is a 500', async () => {
    const app = Fastify({ logger: false });
    installErrorHandling(app);
    app.post('/echo', async (request) => request.body);
    app.get('/state', async () => JSON.parse('{"damaged": '));
    await app.ready();
    const malformed = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a": ' });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().error.code, ErrorCodes.MALFORMED_BODY);
    const state = await app.inject({ url: '/state' });
    assert.equal(state.statusCode, 500, 'a damaged file or record of ours is not the client\'s malformed request');
    assert.equal(state.json().error.code, ErrorCodes.INTERNAL);
    await app.close();
  });

  it('answers a 5xx without our addresses and paths (the log keeps them); a 4xx echoes the client\'s input as it was', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
    const app = Fastify({ loggerInstance: pino({ level: 'info' }, sink) as FastifyBaseLogger, disableRequestLogging: true });
    installErrorHandling(app);
    app.get('/redis', async () => {
      throw new FaiError(ErrorCodes.UNAVAILABLE, 'redis HGET failed: connect ECONNREFUSED 10.1.2.3:6379 (redis://:secret@cache.internal:6379/0)');
    });
    app.get('/disk', async () => {
      throw new FaiError(ErrorCodes.STORAGE, 'cannot write the record: ENOSPC in /var/lib/fai/hub/meta, at redis.internal:6380 or [::1]:6379');
    });
    app.get('/client', async () => {
      throw new FaiError(ErrorCodes.VALIDATION, 'body.url: http://10.0.0.1:80/x is not allowed', { field: 'body.url' });
    });
    await app.ready();
    const redis = (await app.inject({ url: '/redis' })).json().error.message as string;
    assert.equal(redis, 'redis HGET failed: connect ECONNREFUSED <address> (<url>)');
    const disk = (await app.inject({ url: '/disk' })).json().error.message as string;
    assert.equal(disk, 'cannot write the record: ENOSPC in <path>, at <address> or <address>');
    assert.match((await app.inject({ url: '/client' })).json().error.message, /http:\/\/10\.0\.0\.1:80\/x/);
    assert.ok(lines.some((line) => line.includes('10.1.2.3:6379')), 'the log has the whole message');
    await app.close();
  });
});
