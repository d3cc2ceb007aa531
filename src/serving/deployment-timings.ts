/** How often and how long the manager probes, waits and backs off; tests shorten them. */
export interface DeploymentTimings {
  /** The manager looks at every deployment this often even when nothing tells it to. */
  stepIntervalMs: number;
  /** A deployment that follows an alias checks where it points this often. */
  aliasPollMs: number;
  livenessIntervalMs: number;
  /** Failed liveness probes in a row after which a replica is replaced. */
  livenessFailures: number;
  /** The deadline of one probe. */
  probeTimeoutMs: number;
  /** Between two readiness probes of a replica that does not answer yet. */
  readinessRetryMs: number;
  /** After traffic moved to a new version, calls in flight to the old replicas get this long before they stop. */
  drainMs: number;
  /** A replica that ended is replaced after 1 s, 2 s, 4 s ... up to the maximum. */
  restartBaseMs: number;
  restartMaxMs: number;
  /** A replica that was ready this long before it ended starts the back-off over. */
  backoffResetMs: number;
  /** The log lines a failure quotes. */
  logLines: number;
}

export const DEFAULT_TIMINGS: DeploymentTimings = {
  stepIntervalMs: 1_000,
  aliasPollMs: 2_000,
  livenessIntervalMs: 5_000,
  livenessFailures: 3,
  probeTimeoutMs: 2_000,
  readinessRetryMs: 250,
  drainMs: 2_000,
  restartBaseMs: 1_000,
  restartMaxMs: 60_000,
  backoffResetMs: 60_000,
  logLines: 20,
};
