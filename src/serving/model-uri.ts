import { invalidParameterValue } from '../lib/errors.ts';

/** What a deployment serves: one version of a registered model, or whichever version an alias names. */
export type ServedModel = { name: string } & ({ version: number } | { alias: string });

const VERSION_URI = /^models:\/([^/@]+)\/([1-9]\d{0,9})$/;
const ALIAS_URI = /^models:\/([^/@]+)@([^/@]+)$/;

/** `models:/<name>/<version>` or `models:/<name>@<alias>`; stages and `latest` would move under a deployment unseen. */
export function parseServedModel(uri: string): ServedModel {
  const version = VERSION_URI.exec(uri);
  if (version) return { name: version[1]!, version: Number(version[2]) };
  const alias = ALIAS_URI.exec(uri);
  if (alias) return { name: alias[1]!, alias: alias[2]! };
  throw invalidParameterValue(
    `Not a model URI a deployment can serve: ${uri}. Use 'models:/<model_name>/<version>' for one version, or 'models:/<model_name>@<alias>' to follow an alias (rolling out each version it moves to).`,
  );
}

export const versionUri = (name: string, version: number) => `models:/${name}/${version}`;
