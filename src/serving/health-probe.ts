export type ProbeResult = { ok: true } | { ok: false; problem: string };

/**
 * One GET of `url`: healthy on a 2xx or 3xx answer within `timeoutMs`. Every try has its own deadline, as fetch
 * can hang on a published port whose server does not listen yet.
 */
export async function probeOnce(url: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, { redirect: 'manual', signal: signal ? AbortSignal.any([signal, deadline]) : deadline });
    await response.body?.cancel();
    return response.status < 400 ? { ok: true } : { ok: false, problem: `answered ${response.status}` };
  } catch (error) {
    if (deadline.aborted) return { ok: false, problem: `no answer within ${timeoutMs} ms` };
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    // Docker's port proxy takes the connection and closes or resets it while nothing in the container listens.
    if (cause?.code === 'UND_ERR_SOCKET' || cause?.code === 'ECONNRESET') return { ok: false, problem: 'the connection closed without an answer' };
    return { ok: false, problem: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}
