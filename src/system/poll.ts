/**
 * Runs `sync` now and every `everyMs` until stopped (the timer keeps no process alive). A run that
 * fails is handed to `onError`, and the next tick tries again: what the caller last read stays in
 * force meanwhile. `first` settles with the first run. The service's shared modes (forced strict
 * mode, forced downshifts) each follow their Redis state this way.
 */
export function pollEvery(sync: () => Promise<void>, everyMs: number, onError?: (error: unknown) => void): { readonly first: Promise<void>; stop(): void } {
  const run = () => sync().catch((error: unknown) => onError?.(error));
  const timer = setInterval(() => void run(), everyMs);
  timer.unref();
  return { first: run(), stop: () => clearInterval(timer) };
}
