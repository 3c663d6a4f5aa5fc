import type { TargetCapabilities } from '../target';

// The instances `docker pull` the boot tag, and docker picks the manifest of its own platform from an index.
export const capabilities: TargetCapabilities = { imageIndex: { runs: true } };
