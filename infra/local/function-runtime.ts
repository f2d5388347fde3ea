/**
 * Which local function is running. In AWS every function is its own process with its own
 * configuration, credentials and warm caches; the local platform runs them all in one process
 * (and the event consumers in one worker thread), so each invocation runs inside its function's
 * context and the composition root answers that function's own set of services.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const running = new AsyncLocalStorage<string>();

/** Runs `work` as the function `entry` (its `functions/` path, e.g. `me/get-me`). */
export function runAsFunction<T>(entry: string, work: () => T): T {
  return running.run(entry, work);
}

/** The function now running; undefined outside any (boot code, a test's own calls). */
export function currentFunction(): string | undefined {
  return running.getStore();
}

/**
 * One value per function, made on its first use inside that function, as a Lambda function's
 * module-level state is its own. Outside any function, the value for `undefined`.
 */
export function perFunction<T>(make: (entry: string | undefined) => T): () => T {
  const made = new Map<string | undefined, T>();
  return () => {
    const entry = currentFunction();
    let value = made.get(entry);
    if (value === undefined) {
      value = make(entry);
      made.set(entry, value);
    }
    return value;
  };
}
