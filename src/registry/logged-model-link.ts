import type { Db } from '../db/connection.ts';
import { listLoggedModelTags, upsertLoggedModelTags } from '../tracking/logged-model-queries.ts';

const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';

/** JSON as Python's json.dumps writes it (", " and ": " separators, non-ASCII escaped), which clients compare. */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, item]) => `${pythonJson(key)}: ${pythonJson(item)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function registeredVersions(text: string | undefined): unknown[] {
  try {
    const parsed: unknown = text === undefined ? [] : JSON.parse(text);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/** As MLflow 3's server does: the logged model lists the registered versions made from it in a tag. */
export function recordVersionOnLoggedModel(db: Db, modelId: string, name: string, version: number): void {
  const current = listLoggedModelTags(db, [modelId]).get(modelId)?.find(({ key }) => key === MODEL_VERSIONS_TAG)?.value;
  const versions = registeredVersions(current);
  const known = versions.some((entry) => pythonJson(entry) === pythonJson({ name, version }));
  const value = pythonJson(known ? versions : [...versions, { name, version }]);
  upsertLoggedModelTags(db, modelId, [{ key: MODEL_VERSIONS_TAG, value }]);
}
