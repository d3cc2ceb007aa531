import type { Log } from '../lib/log.ts';

/**
 * Logs what a round skipped the first time each reason appears, not at every round (a hung nvidia-smi would
 * otherwise write a line every few seconds for as long as it hangs), and once when rounds are whole again.
 */
export function createSkipLog(log: Log): (skipped: readonly string[]) => void {
  let current = new Set<string>();
  return (skipped) => {
    const now = new Set(skipped);
    for (const reason of now) if (!current.has(reason)) log.warn({ reason }, 'monitoring sample incomplete');
    if (current.size > 0 && now.size === 0) log.info('monitoring samples are complete again');
    current = now;
  };
}
