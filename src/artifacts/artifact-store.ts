export interface ArtifactStore {}

/** Files of runs and logged models under `root` (the data directory's artifacts/ folder). */
export function createArtifactStore(_deps: { root: string }): ArtifactStore {
  return {};
}
