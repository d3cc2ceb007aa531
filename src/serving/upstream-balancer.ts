/** Spreads a deployment's calls over its ready replicas. */
export interface UpstreamBalancer {
  /** The upstream with the fewest calls in flight, `excluded` left out; ties take turns. Undefined when none is left. */
  pick(deployment: string, upstreams: readonly string[], excluded: ReadonlySet<string>): string | undefined;
  acquire(upstream: string): void;
  release(upstream: string): void;
  inFlight(upstream: string): number;
}

export function createUpstreamBalancer(): UpstreamBalancer {
  const inFlight = new Map<string, number>();
  /** Per deployment, how many ties it has broken: the next tie goes to the following upstream. */
  const turns = new Map<string, number>();

  return {
    pick(deployment, upstreams, excluded) {
      let fewest = Infinity;
      let ties = 0;
      for (const upstream of upstreams) {
        if (excluded.has(upstream)) continue;
        const load = inFlight.get(upstream) ?? 0;
        if (load < fewest) [fewest, ties] = [load, 1];
        else if (load === fewest) ties++;
      }
      if (ties === 0) return undefined;
      const turn = turns.get(deployment) ?? 0;
      turns.set(deployment, turn + 1);
      let skip = turn % ties;
      for (const upstream of upstreams) {
        if (excluded.has(upstream) || (inFlight.get(upstream) ?? 0) !== fewest) continue;
        if (skip-- === 0) return upstream;
      }
      return undefined;
    },
    acquire(upstream) {
      inFlight.set(upstream, (inFlight.get(upstream) ?? 0) + 1);
    },
    release(upstream) {
      const left = (inFlight.get(upstream) ?? 1) - 1;
      if (left > 0) inFlight.set(upstream, left);
      else inFlight.delete(upstream);
    },
    inFlight: (upstream) => inFlight.get(upstream) ?? 0,
  };
}
