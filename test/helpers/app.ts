import { after, before } from 'node:test';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from './config.ts';

/** One test app for the file: built and ready before its tests, closed after; the getter returns it. */
export function useTestApp(env: Record<string, string> = {}): () => App {
  let app: App | undefined;
  before(async () => {
    app = createApp(testConfig(env));
    await app.server.ready();
  });
  after(async () => {
    await app?.close();
  });
  return () => {
    if (app === undefined) throw new Error('the test app is built in before(): use it inside a test');
    return app;
  };
}
