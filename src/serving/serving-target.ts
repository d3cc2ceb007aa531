/** Where the proxy sends the calls to one deployment, and who may make them. */
export interface ServingTarget {
  /** The deployment's name, as in /serve/<name>/... */
  name: string;
  projectId: number;
  /** Anyone may call it without a credential (an editor chose so). */
  public: boolean;
  /** Base URLs of the replicas ready for traffic, e.g. http://127.0.0.1:49153; may be empty. */
  upstreams: string[];
}

/** The target of deployment `name`, or undefined when none has that name; asked on every call, so it must be cheap. */
export type FindServingTarget = (name: string) => ServingTarget | undefined;
