/**
 * What a step that deploys to ECS saves for its post step (GitHub's saveState/getState), so that a main step killed
 * outright (SIGKILL after the runner's grace period, a runner crash) does not leave a deployment running that no one
 * watches: the post step stops it with ECS's rollback.
 */
export const STATE = {
  region: 'ecs-region',
  cluster: 'ecs-cluster',
  service: 'ecs-service',
  label: 'ecs-label',
  deploymentArn: 'ecs-deployment-arn',
  cancelOnAbort: 'ecs-cancel-on-abort',
  /** 'true' once the main step saw its deployment end (or settled it after a cancel). */
  settled: 'ecs-settled',
} as const;

import type { RolloutOf } from './deployment';

/** What this run started on the service, for a rollback and for settling a cancelled run. */
export interface EcsStarted {
  /** What our UpdateService rolls out, to find its deployment when ECS had not listed it yet. */
  rollout?: RolloutOf;
  /** The revision this deploy registered and rolled out. */
  taskDefinitionArn?: string;
  /** What the service ran before. */
  previousTaskDefinitionArn?: string;
  previousImage?: string;
  /** The service deployment of our UpdateService, once ECS listed it. */
  deploymentArn?: string;
  /** When our UpdateService was sent (real time: ECS's timestamps are). */
  since?: Date;
  /** True once our deployment ended (any way). */
  ended?: boolean;
}
