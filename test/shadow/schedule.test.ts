import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nextRun, onCalendar, readSchedule, renderSchedule, ShadowScheduler, type ScheduleEntry } from '../../src/shadow/index.ts';
import { createApp } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';

describe('shadow evaluation schedule', () => {
  it('ships the guide\'s stage table: development on every change, staging daily, production weekly, incident by hand', async () => {
    const schedule = await readSchedule();
    assert.deepEqual(
      schedule.stages.map((e) => [e.stage, e.cron ?? null]),
      [['development', null], ['staging', '0 3 * * *'], ['production', '0 4 * * 1'], ['incident', null]],
    );
    const rendered = renderSchedule(schedule, '/srv/fai');
    assert.match(rendered.crontab, /^0 3 \* \* \* cd \/srv\/fai && \/srv\/fai\/bin\/fai shadow run --stage staging --samples 200 --no-train/m);
    assert.match(rendered.crontab, /^0 4 \* \* 1 .*--stage production --samples 500/m);
    assert.deepEqual(rendered.systemd.map((u) => u.file), ['fai-shadow-staging.service', 'fai-shadow-staging.timer', 'fai-shadow-production.service', 'fai-shadow-production.timer']);
    assert.match(rendered.systemd[1]!.content, /OnCalendar=\*-\*-\* 03:00:00/);
    assert.match(rendered.systemd[3]!.content, /OnCalendar=Mon \*-\*-\* 04:00:00/);
  });

  it('computes next runs, and converts cron to OnCalendar exactly', () => {
    // 2026-11-28 is a Saturday.
    const from = new Date(2026, 10, 28, 12, 0, 0);
    assert.deepEqual(nextRun('0 3 * * *', from), new Date(2026, 10, 29, 3, 0, 0));
    assert.deepEqual(nextRun('0 4 * * 1', from), new Date(2026, 10, 30, 4, 0, 0));
    assert.equal(onCalendar('30 7 * * 5'), 'Fri *-*-* 07:30:00');
    assert.equal(onCalendar('15 30 7 * * *'), '*-*-* 07:30:15');
  });

  it('refuses a schedule it cannot honour, naming the problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-schedule-'));
    const file = join(dir, 'schedule.json');
    for (const [stages, problem] of [
      [[{ stage: 'staging', when: 'monthly', cron: '0 3 1 * *', samples: 10 }], /minute hour \* \* day-of-week/],
      [[{ stage: 'staging', when: 'daily', cron: '0 25 * * *', samples: 10 }], /hour 0–23/],
      [[{ stage: 'moon', when: 'daily', samples: 10 }], /stage/],
      [[{ stage: 'staging', when: 'a', samples: 10 }, { stage: 'staging', when: 'b', samples: 10 }], /listed twice/],
    ] as const) {
      await writeFile(file, JSON.stringify({ stages }));
      await assert.rejects(readSchedule(file), problem);
    }
  });

  it('runs a stage at its time in this process and arms the next run', async () => {
    // A clock 1.5 s before 03:00, advancing with real time: the staging run is due in 1.5 s.
    const realStart = Date.now();
    const fakeStart = new Date(2026, 10, 28, 2, 59, 58, 500).getTime();
    const now = () => new Date(fakeStart + (Date.now() - realStart));
    const runs: string[] = [];
    const entry: ScheduleEntry = { stage: 'staging', when: 'daily', cron: '0 3 * * *', samples: 10 };
    const scheduler = new ShadowScheduler({ stages: [entry] }, async (e) => void runs.push(e.stage), undefined, now);
    scheduler.start();
    assert.deepEqual(scheduler.planned(), [{ stage: 'staging', at: new Date(2026, 10, 28, 3, 0, 0) }]);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.deepEqual(runs, ['staging']);
    assert.deepEqual(scheduler.planned(), [{ stage: 'staging', at: new Date(2026, 10, 29, 3, 0, 0) }], 'the next day is armed');
    scheduler.stop();
  });

  it('is armed by the service itself with SHADOW_SCHEDULE=on', async () => {
    const app = createApp(testConfig({ PORT: '0', SHADOW_SCHEDULE: 'on' }));
    await app.listen();
    try {
      const planned = app.shadowScheduler()!.planned();
      assert.deepEqual(planned.map((p) => p.stage), ['staging', 'production']);
      for (const p of planned) assert.ok(p.at.getTime() > Date.now());
    } finally {
      await app.close();
    }
    const off = createApp(testConfig({ PORT: '0' }));
    await off.listen();
    assert.equal(off.shadowScheduler(), undefined);
    await off.close();
  });
});
