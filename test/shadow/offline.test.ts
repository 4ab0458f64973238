import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openHub } from '../../src/hub/index.ts';
import { FormulationEnv } from '../../src/learning/index.ts';
import { offlineModels } from '../../src/shadow/index.ts';
import { testConfig } from '../helpers/config.ts';

describe('the models of an offline shadow run', () => {
  const opened = openHub(testConfig());
  after(() => opened.close());

  it('refuses a teacher to train for the run out of a training job\'s bounds, naming the option, before training anything', async () => {
    const env = new FormulationEnv();
    for (const [options, field, message] of [
      [{ trainEpisodes: 8, teacherHidden: 2 }, 'teacherHidden', /teacherHidden: must be at least 4/],
      [{ trainEpisodes: 8, teacherHidden: 4096 }, 'teacherHidden', /teacherHidden: must be at most 1024/],
      [{ trainEpisodes: 0 }, 'trainEpisodes', /trainEpisodes: must be at least 1/],
    ] as const) {
      await assert.rejects(offlineModels({ hub: opened.hub, pins: {}, env, ...options }), (error: Error & { code?: string; field?: string }) => {
        assert.equal(error.code, 'FAI_ERR_VALIDATION');
        assert.equal(error.field, field);
        assert.match(error.message, message);
        return true;
      });
    }
    assert.deepEqual(await opened.hub.list('checkpoint', 10), [], 'nothing was trained or stored');
  });
});
