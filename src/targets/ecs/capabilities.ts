import type { TargetCapabilities } from '../target';

// ECS (EC2 and Fargate, Express Mode too) pulls the manifest of the task's platform from an image index.
export const capabilities: TargetCapabilities = { imageIndex: { runs: true } };
