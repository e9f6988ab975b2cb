import { unavailable } from '../errors.js';

/** Runs a Redis command; a failure of Redis itself becomes `unavailable` (fail closed). */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw unavailable(err);
  }
}
