import type Dockerode from 'dockerode';

interface PullEvent {
  error?: string;
}

/**
 * Pulls `image` and resolves once the engine has it. The engine reports a failed pull either as an error status
 * or as an `{"error": ...}` line in a 200 answer; both reject. `signal` ends a pull that takes too long.
 */
export async function pullImage(docker: Dockerode, image: string, signal: AbortSignal): Promise<void> {
  const stream = (await docker.pull(image, { abortSignal: signal })) as NodeJS.ReadableStream;
  const events = await new Promise<PullEvent[]>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: PullEvent[]) => (error ? reject(error) : resolve(output)));
  });
  // An aborted answer just ends early, without an error.
  signal.throwIfAborted();
  const failed = events.find((event) => event.error);
  if (failed) throw new Error(failed.error);
}
