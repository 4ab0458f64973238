import { readFileSync } from 'node:fs';

/**
 * A process told apart from a later one that got the same pid (after a reboot, or once pids wrap):
 * the boot's id and the process's start time in clock ticks since boot (field 22 of
 * /proc/<pid>/stat). Undefined where there is no /proc (not Linux) or the process is gone: callers
 * then fall back to the pid alone. Read synchronously: two small /proc reads, no disk.
 */
export function processStart(pid: number): string | undefined {
  const startTicks = statFields(pid)?.[19];
  return startTicks === undefined ? undefined : `${bootId()}:${startTicks}`;
}

/** Linux's USER_HZ, the unit of /proc's times: 100 on every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * The CPU time `pid` has used, user and system, in µs (fields 14 and 15 of /proc/<pid>/stat, in
 * clock ticks); undefined where there is no /proc or the process is gone. For measuring another
 * process (process.cpuUsage() measures this one).
 */
export function processCpuMicros(pid: number): number | undefined {
  const fields = statFields(pid);
  if (fields === undefined) return undefined;
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1e6;
}

/** The fields of /proc/<pid>/stat after the command's name (field 3 first), or undefined where it cannot be read. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

let boot: string | undefined;
function bootId(): string {
  boot ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return boot;
}

/** Whether `pid` runs and, when its start was recorded, is still the process that recorded it (not a later one with its pid). */
export function isSameProcess(pid: number, start: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (start === undefined) return true;
  const now = processStart(pid);
  return now === undefined || now === start;
}
