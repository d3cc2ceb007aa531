/** Replicas of one model version that are ready for traffic. */
export interface VersionUpstreams {
  version: number;
  /** Base URLs of the replicas, e.g. http://127.0.0.1:49153; may be empty. */
  upstreams: string[];
}

/** Where the proxy sends the calls to one deployment, and who may make them. */
export interface ServingTarget extends VersionUpstreams {
  /** The deployment's id: sampled calls are kept under it. */
  id: number;
  /** The deployment's name, as in /serve/<name>/... */
  name: string;
  projectId: number;
  /** Anyone may call it without a credential (an editor chose so). */
  public: boolean;
  /** A version taking `weight` percent of the calls until an editor promotes or rolls it back. */
  canary: (VersionUpstreams & { weight: number }) | null;
  /** The share of calls (0 to 1) whose bodies are kept, up to `maxBytes` each. */
  sampling: { rate: number; maxBytes: number };
}

/** The target of deployment `name`, or undefined when none has that name; asked on every call, so it must be cheap. */
export type FindServingTarget = (name: string) => ServingTarget | undefined;

/** Which version takes a call: the canary for its weight's share of calls once one of its replicas is ready, else the serving one. */
export function versionFor(target: ServingTarget, random: () => number = Math.random): VersionUpstreams {
  const { canary } = target;
  return canary !== null && canary.upstreams.length > 0 && random() * 100 < canary.weight ? canary : target;
}
