const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * One line per distinct cause, naming the jobs it struck (`docker stats of jobs 3, 7: ...`): an engine that is
 * down fails every container the same way, which is one thing skipped, not fifty.
 */
export function skippedPerCause(what: string, failures: ReadonlyArray<{ jobId: number; error: unknown }>): string[] {
  const jobsPerCause = new Map<string, number[]>();
  for (const { jobId, error } of failures) {
    const cause = messageOf(error);
    jobsPerCause.set(cause, [...(jobsPerCause.get(cause) ?? []), jobId]);
  }
  return [...jobsPerCause].map(([cause, jobIds]) => `${what} ${jobIds.length === 1 ? 'job' : 'jobs'} ${jobIds.join(', ')}: ${cause}`);
}
