/**
 * A one-line progress bar on stderr when it is a terminal (done/total, rate, ETA and a caller's note,
 * e.g. the reward MA); a line per 10 % otherwise, so logs of CI runs stay short.
 */
export function progressBar(total: number, unit: string, started = performance.now()): (done: number, note?: string) => void {
  const tty = process.stderr.isTTY === true;
  let nextTenth = 0.1;
  return (done, note) => {
    const elapsed = (performance.now() - started) / 1000;
    const rate = done / Math.max(elapsed, 1e-3);
    const eta = (total - done) / Math.max(rate, 1e-3);
    const width = 30;
    const filled = Math.min(width, Math.round((width * done) / total));
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${unit}  ${rate.toFixed(rate < 10 ? 1 : 0)}/s${note === undefined ? '' : `  ${note}`}  ETA ${eta.toFixed(0)} s`;
    if (tty) process.stderr.write(`\r${line}${done >= total ? '\n' : ''}`);
    else if (done / total >= nextTenth || done >= total) {
      process.stderr.write(`${line}\n`);
      while (nextTenth <= done / total) nextTenth += 0.1;
    }
  };
}
