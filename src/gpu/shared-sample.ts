/**
 * Shares one sample among every caller of a short window (and a sample still running among all who ask
 * meanwhile), so a tick in which the scheduler, the monitor and a few dashboards look runs nvidia-smi once.
 */
export function shareSample<T>(sample: () => Promise<T>, windowMs: number, now: () => number): () => Promise<T> {
  let latest: Promise<T> | undefined;
  let running = false;
  let finishedAt = 0;
  return () => {
    if (latest && (running || now() - finishedAt < windowMs)) return latest;
    running = true;
    latest = sample().finally(() => {
      running = false;
      finishedAt = now();
    });
    return latest;
  };
}
