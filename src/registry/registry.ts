import { modelVersionOperations, type ModelVersionOperations } from './model-versions.ts';
import { registeredModelOperations, type RegisteredModelOperations } from './registered-models.ts';
import { createRegistryAccess, type RegistryDeps } from './registry-access.ts';
import { runVersionOperations, type RunVersionOperations } from './run-versions.ts';

export type { Caller } from './registry-access.ts';
export type { ModelVersion, RegisteredModel } from './registry-records.ts';

/**
 * MLflow's model registry: registered models in projects, their numbered versions, tags, aliases and stages.
 * Every operation takes the caller and checks their role in the model's project (viewer reads, editor writes).
 */
export interface Registry extends RegisteredModelOperations, ModelVersionOperations, RunVersionOperations {}

export function createRegistry(deps: RegistryDeps): Registry {
  const access = createRegistryAccess(deps);
  return { ...registeredModelOperations(deps, access), ...modelVersionOperations(deps, access), ...runVersionOperations(deps, access) };
}
