import { HttpError } from '../lib/errors.ts';

export interface LoginLimiter {
  /** Throws 429 while any of the keys (client address, username) has too many recent failures. */
  check(keys: string[]): void;
  fail(keys: string[]): void;
  succeed(keys: string[]): void;
}

const MAX_TRACKED_KEYS = 10_000;

export function createLoginLimiter(deps: { now: () => number; maxFailures: number; windowMs: number }): LoginLimiter {
  const failures = new Map<string, number[]>();

  const recent = (key: string) => {
    const since = deps.now() - deps.windowMs;
    const kept = (failures.get(key) ?? []).filter((at) => at > since);
    if (kept.length) failures.set(key, kept);
    else failures.delete(key);
    return kept;
  };

  return {
    check(keys) {
      for (const key of keys) {
        const times = recent(key);
        if (times.length >= deps.maxFailures) {
          const retryAfter = Math.ceil((times[0]! + deps.windowMs - deps.now()) / 1000);
          throw new HttpError(429, 'TOO_MANY_ATTEMPTS', `too many failed sign-in attempts; try again in ${retryAfter} s`, {
            'Retry-After': String(retryAfter),
          });
        }
      }
    },
    fail(keys) {
      if (failures.size > MAX_TRACKED_KEYS) failures.clear();
      for (const key of keys) failures.set(key, [...recent(key), deps.now()]);
    },
    succeed(keys) {
      for (const key of keys) failures.delete(key);
    },
  };
}
