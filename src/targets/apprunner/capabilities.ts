import type { TargetCapabilities } from '../target';

export const capabilities: TargetCapabilities = {
  // App Runner pulls a single linux/amd64 image manifest; an image index fails the deployment after the push.
  imageIndex: {
    runs: false,
    why: 'App Runner runs a single image manifest only, it cannot run an image index (manifest list)',
  },
};
