import { artifactPathSegments, resolveInside } from '../artifacts/safe-path.ts';
import { storePathOf } from '../artifacts/experiment-access.ts';
import { invalidParameterValue, resourceDoesNotExist } from '../lib/errors.ts';
import type { Caller, ModelVersion, Registry } from '../registry/registry.ts';
import type { ServedModel } from './model-uri.ts';

/** A registered version and the folder on this host that holds its files. */
export interface ModelFolder {
  version: number;
  /** Absolute, below the artifact store's root. */
  path: string;
}

/** The version `model` names, read with the caller's rights: 404 in MLflow's words for an unknown model, version or alias. */
export function findServedVersion(registry: Registry, caller: Caller, model: ServedModel): ModelVersion {
  if ('version' in model) return registry.getModelVersion(caller, { name: model.name, version: String(model.version) });
  const registered = registry.getRegisteredModel(caller, model.name);
  const named = registered.aliases.find(({ alias }) => alias === model.alias);
  if (!named) throw resourceDoesNotExist(`Registered model alias ${model.alias} not found.`);
  return registry.getModelVersion(caller, { name: model.name, version: String(named.version) });
}

/**
 * The folder the version's files are in, inside the artifact store at `root` (no link on the way, so nothing
 * planted there leads a replica's mount elsewhere). A version whose files are kept elsewhere, or not at all, is a 400.
 */
export async function modelFolderOf(root: string, version: ModelVersion): Promise<ModelFolder> {
  const location = version.storageLocation || version.source;
  const segments = artifactPathSegments(storePathOf(location));
  const target = await resolveInside(root, segments);
  if (!target.stats?.isDirectory()) {
    const what = target.stats ? 'is a file, not a folder' : 'holds no files on this server';
    throw invalidParameterValue(`version ${version.version} of model ${version.name} cannot be served: ${location} ${what}`);
  }
  return { version: version.version, path: target.absolute };
}
