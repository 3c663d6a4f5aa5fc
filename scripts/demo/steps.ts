// The demo's steps run the real bundles (dist/pipeline, dist/rollback) exactly as a GitHub runner runs them.

import type { Sandbox } from '../../sandbox/index';
import { type BundleRun, runBundle } from '../../sandbox/run-bundle';
import type { DeployRecord } from '../../src/core/record';
import {
  APPRUNNER_ENVIRONMENT,
  ASG_ENVIRONMENT,
  BOOT_TAG,
  type DemoWorld,
  ECS_CLUSTER,
  ECS_ENVIRONMENT,
  ECS_SERVICE,
  EXPRESS_ENVIRONMENT,
  GITHUB_REPOSITORY,
  REPOSITORY,
} from './setup';

export type Target = 'apprunner' | 'asg' | 'ecs' | 'ecs-express';

/** Health and version probes every half second, for at most 12 s: a healthy deploy passes in a few seconds. */
const FAST_HEALTH = { 'health-interval-seconds': '0.5', 'health-timeout-minutes': '0.2' };

export interface StepRun {
  run: BundleRun;
  record: DeployRecord | undefined;
  ms: number;
}

function secrets(sandbox: Sandbox): string[] {
  return [sandbox.registry.password, sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.github.token];
}

function env(sandbox: Sandbox, sha: string): Record<string, string> {
  return {
    ...sandbox.env(),
    GITHUB_SHA: sha,
    GITHUB_REPOSITORY,
    GITHUB_REPOSITORY_OWNER: GITHUB_REPOSITORY.split('/')[0]!,
  };
}

function targetInputs(world: DemoWorld, target: Target): Record<string, string> {
  switch (target) {
    case 'apprunner':
      return { target, environment: APPRUNNER_ENVIRONMENT, 'service-arn': world.serviceArn };
    case 'asg':
      return { target, environment: ASG_ENVIRONMENT, 'asg-name': world.group, 'boot-tag': BOOT_TAG };
    case 'ecs':
      return { target, environment: ECS_ENVIRONMENT, cluster: ECS_CLUSTER, 'ecs-service': ECS_SERVICE };
    case 'ecs-express':
      return { target, environment: EXPRESS_ENVIRONMENT, 'express-service-arn': world.expressServiceArn };
  }
}

/** Where the target serves, for a health URL through its load balancer; undefined: a path on the service URL. */
function servedAt(world: DemoWorld, target: Target): string | undefined {
  if (target === 'asg') return world.loadBalancerUrl;
  if (target === 'ecs') return world.ecsUrl;
  return undefined;
}

async function timed(work: () => Promise<BundleRun>): Promise<StepRun> {
  const started = Date.now();
  const run = await work();
  let record: DeployRecord | undefined;
  try {
    record = run.outputs.record ? (JSON.parse(run.outputs.record) as DeployRecord) : undefined;
  } catch {
    record = undefined;
  }
  return { run, record, ms: Date.now() - started };
}

/**
 * The all-in-one action (root action.yml) deploying commit `sha`, built with VERSION=<sha> plus `buildArgs`; `extra`
 * adds inputs (the bake's `alarms` and `bake-time`).
 */
export function deploy(
  sandbox: Sandbox,
  world: DemoWorld,
  target: Target,
  sha: string,
  buildArgs: string[] = [],
  extra: Record<string, string> = {},
) {
  const lb = servedAt(world, target);
  const group = {
    ...(lb ? { 'health-url': `${lb}/health` } : {}),
    // One instance at a time out of three; a short warmup (a "second" lasts 10 ms in the sandbox).
    ...(target === 'asg' ? { 'min-healthy-percentage': '66', 'instance-warmup': '10' } : {}),
  };
  return timed(() =>
    runBundle('pipeline', {
      inputs: {
        ...targetInputs(world, target),
        repository: REPOSITORY,
        context: world.context,
        'build-args': [`VERSION=${sha}`, ...buildArgs].join('\n'),
        'github-token': sandbox.github.token,
        'timeout-minutes': '2',
        ...FAST_HEALTH,
        ...group,
        ...extra,
      },
      env: env(sandbox, sha),
      secrets: secrets(sandbox),
    }),
  );
}

/** The rollback action putting `target` back on the image of commit `toSha`, checking /version serves it. */
export function rollback(
  sandbox: Sandbox,
  world: DemoWorld,
  target: Target,
  toSha: string,
  currentSha: string,
  extra: Record<string, string> = {},
) {
  return timed(() =>
    runBundle('rollback', {
      inputs: {
        ...targetInputs(world, target),
        repository: REPOSITORY,
        region: 'us-east-1',
        'to-sha': toSha,
        'github-token': sandbox.github.token,
        'health-url': `${servedAt(world, target) ?? ''}/version`,
        'expected-version': 'sha',
        'timeout-minutes': '2',
        ...FAST_HEALTH,
        ...extra,
      },
      // A manual rollback runs from a workflow_dispatch on the branch's head.
      env: { ...env(sandbox, currentSha), GITHUB_EVENT_NAME: 'workflow_dispatch' },
      secrets: secrets(sandbox),
    }),
  );
}

/** The ecr-cleanup action over the demo's repository, keeping what the App Runner service runs now. */
export function ecrCleanup(sandbox: Sandbox, world: DemoWorld, sha: string, inputs: Record<string, string>) {
  return timed(() =>
    runBundle('ecr-cleanup', {
      inputs: {
        ...targetInputs(world, 'apprunner'),
        repository: REPOSITORY,
        region: 'us-east-1',
        'github-token': sandbox.github.token,
        ...inputs,
      },
      env: { ...env(sandbox, sha), GITHUB_EVENT_NAME: 'schedule' },
      secrets: secrets(sandbox),
    }),
  );
}
