import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { readJsonFile } from '../config/index.ts';
import { STAGES, type Stage } from './log.ts';

export const DEFAULT_SCHEDULE_FILE = 'configs/shadow-schedule.json';
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/**
 * The cron forms a schedule entry may use: `minute hour * * day-of-week` (numbers or `*` for the day),
 * optionally with a leading seconds field. Narrow on purpose: each converts exactly to a systemd
 * OnCalendar expression, so the crontab and the timers can never disagree.
 */
const CRON = /^(?:(\d{1,2}|\*\/\d+|\*) )?(\d{1,2}) (\d{1,2}) \* \* (\d|\*)$/;

const EntrySchema = z
  .object({
    stage: z.enum(STAGES),
    when: z.string().min(1),
    cron: z
      .string()
      .regex(CRON, 'must be "minute hour * * day-of-week" (numbers; * for every day), e.g. "0 3 * * *"')
      .refine((cron) => {
        const match = CRON.exec(cron);
        if (match === null) return true; // the regex has said what is wrong
        const [, , minute, hour, day] = match;
        return Number(minute) < 60 && Number(hour) < 24 && (day === '*' || Number(day) < 7);
      }, 'minute 0–59, hour 0–23, day-of-week 0–6')
      .optional(),
    samples: z.number().int().min(2).max(100_000),
  })
  .strict();
export const ScheduleSchema = z
  .object({ description: z.string().optional(), stages: z.array(EntrySchema).min(1) })
  .strict()
  .refine((s) => new Set(s.stages.map((e) => e.stage)).size === s.stages.length, 'a stage is listed twice');
export type Schedule = z.infer<typeof ScheduleSchema>;
export type ScheduleEntry = Schedule['stages'][number];

export function readSchedule(file = DEFAULT_SCHEDULE_FILE): Promise<Schedule> {
  return readJsonFile(file, ScheduleSchema, 'shadow schedule', { field: 'SHADOW_SCHEDULE_FILE' });
}

/** The systemd OnCalendar expression of an entry's cron. */
export function onCalendar(cron: string): string {
  const [, seconds, minute, hour, day] = CRON.exec(cron)!;
  const time = `${hour!.padStart(2, '0')}:${minute!.padStart(2, '0')}:${seconds === undefined ? '00' : seconds.padStart(2, '0')}`;
  return `${day === '*' ? '' : `${DAYS[Number(day)]} `}*-*-* ${time}`;
}

/** When an entry next runs after `from`. */
export function nextRun(cron: string, from: Date): Date {
  return CronExpressionParser.parse(cron, { currentDate: from }).next().toDate();
}

/** The schedule as crontab lines and systemd units, for a repository at `root`. */
export function renderSchedule(schedule: Schedule, root: string): { crontab: string; systemd: Array<{ file: string; content: string }> } {
  const command = (e: ScheduleEntry) => `${root}/bin/fai shadow run --stage ${e.stage} --samples ${e.samples} --no-train`;
  const lines = ['# Fragrance AI shadow evaluation (fai shadow schedule). Install with: crontab -e'];
  const systemd: Array<{ file: string; content: string }> = [];
  for (const entry of schedule.stages) {
    if (entry.cron === undefined) {
      lines.push(`# ${entry.stage}: ${entry.when}`);
      continue;
    }
    lines.push(`# ${entry.stage}: ${entry.when}`, `${entry.cron.split(' ').length === 6 ? entry.cron.split(' ').slice(1).join(' ') : entry.cron} cd ${root} && ${command(entry)} >> ${root}/data/shadow/${entry.stage}.log 2>&1`);
    const name = `fai-shadow-${entry.stage}`;
    systemd.push(
      { file: `${name}.service`, content: `[Unit]\nDescription=Fragrance AI shadow evaluation (${entry.stage})\n\n[Service]\nType=oneshot\nWorkingDirectory=${root}\nExecStart=${command(entry)}\n` },
      { file: `${name}.timer`, content: `[Unit]\nDescription=Fragrance AI shadow evaluation (${entry.stage}), ${entry.when}\n\n[Timer]\nOnCalendar=${onCalendar(entry.cron)}\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n` },
    );
  }
  return { crontab: `${lines.join('\n')}\n`, systemd };
}

/**
 * Runs the scheduled stages in this process (SHADOW_SCHEDULE=on): one timer per stage with a cron,
 * set for its next time, re-armed after each run. A run that fails is reported and the next is armed.
 * Timers do not keep the process alive.
 */
export class ShadowScheduler {
  private readonly timers = new Map<Stage, { at: Date; timer: NodeJS.Timeout }>();
  private stopped = false;

  constructor(
    private readonly schedule: Schedule,
    private readonly run: (entry: ScheduleEntry) => Promise<void>,
    private readonly onError: (stage: Stage, error: Error) => void = () => undefined,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(): void {
    for (const entry of this.schedule.stages) if (entry.cron !== undefined) this.arm(entry);
  }

  /** The next run of each scheduled stage. */
  planned(): Array<{ stage: Stage; at: Date }> {
    return [...this.timers].map(([stage, { at }]) => ({ stage, at }));
  }

  private arm(entry: ScheduleEntry): void {
    if (this.stopped) return;
    const at = nextRun(entry.cron!, this.now());
    // setTimeout holds at most ~24.8 days: a later run re-arms on the way.
    const delay = Math.min(Math.max(0, at.getTime() - this.now().getTime()), 2 ** 31 - 1);
    const timer = setTimeout(() => {
      if (this.now() < at) return this.arm(entry);
      this.run(entry)
        .catch((error: unknown) => this.onError(entry.stage, error as Error))
        .finally(() => this.arm(entry));
    }, delay);
    timer.unref();
    this.timers.set(entry.stage, { at, timer });
  }

  stop(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
