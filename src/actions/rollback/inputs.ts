import { ConfigurationError } from '../../core/errors';
import { type InputReader, inputParser } from '../../core/input';
import { resolveService, type Service } from '../../core/service';
import { environmentPointerTag, environmentTag } from '../../core/tags';
import {
  validateAppRunnerServiceArn,
  validateCommitSha,
  validateEnvironment,
  validateRegion,
  validateRepositoryName,
  validateTag,
} from '../../core/validate';
import { type ExpectedVersion, parseExpectedVersion } from '../../deploy/verify';
import type { TargetSpec } from '../../targets';
import type { VerifyOptions } from '../../targets/target';
import { parseMaskAccountId } from '../account-mask';
import { parseEcsTargetName } from '../deploy-ecs/inputs';
import { parseHealthInputs } from '../health-check/inputs';

export interface RollbackInputs {
  environment: string;
  /** The service rolled back (`service`, default the repository's name): its deployments and pointer tags only. */
  service: Service;
  /** The platform and what names the target there (the rollback keeps each platform's defaults otherwise). */
  target: TargetSpec;
  repository: string;
  toSha?: string;
  region: string;
  /** Empty when no token was given: the target then comes from the ECR pointer tag. */
  token: string;
  /** ASG only: the tag the instances pull at boot. */
  bootTag: string;
  /**
   * The health check of the rolled-back-to version. App Runner, ECS Express: always (default `/health` on the service
   * URL). ASG, ECS: only when health-url is set (target-group health is checked regardless).
   */
  health?: Omit<VerifyOptions, 'expectedVersion'>;
  /** `sha`: the commit being rolled back to; another string: that string; undefined: no version check. */
  expectedVersion?: ExpectedVersion;
  timeoutMs: number;
  dryRun: boolean;
  /** mask-aws-account-id: the account IDs of the target's ARNs and the registry are masked in the log. */
  maskAwsAccountId: boolean;
}

// The health-check input names as this action spells them.
const healthNames: Record<string, string> = {
  'interval-seconds': 'health-interval-seconds',
  'timeout-minutes': 'health-timeout-minutes',
};

const KINDS = ['apprunner', 'asg', 'ecs', 'ecs-express'] as const;
const KINDS_ACCEPTED = '"apprunner", "asg", "ecs" or "ecs-express"';
/** The inputs that name each platform's target. */
const TARGET_INPUTS: Record<(typeof KINDS)[number], readonly string[]> = {
  apprunner: ['service-arn'],
  asg: ['asg-name'],
  ecs: ['ecs-service', 'cluster'],
  'ecs-express': ['express-service-arn'],
};

/**
 * What names the target of an environment (`target` and that platform's inputs), for the rollback action and the
 * CLI's `status`; inputs naming another platform's target are refused. Returns the region the ARNs name.
 */
export function parseTargetOf(
  read: InputReader,
  environment: string,
): { target: TargetSpec; bootTag: string; region?: string } {
  const p = inputParser(read);
  const kind = p.oneOf('target', KINDS, 'apprunner');
  if (!p.optional('target')) throw new ConfigurationError('target', '', KINDS_ACCEPTED);
  // The environment's own tag, not `latest`: a tag shared by environments would launch another environment's image.
  const bootTag = validateTag('boot-tag', p.optional('boot-tag') ?? environmentTag(environment));
  let target: TargetSpec;
  let arnRegion: string | undefined;
  if (kind === 'apprunner') {
    const serviceArn = p.required('service-arn', 'the ARN of the App Runner service');
    arnRegion = validateAppRunnerServiceArn('service-arn', serviceArn).region;
    target = { kind, serviceArn };
  } else if (kind === 'asg') {
    const asgName = p.required('asg-name', 'the name of the EC2 Auto Scaling group');
    if (asgName.length > 255)
      throw new ConfigurationError('asg-name', asgName, 'a group name of at most 255 characters');
    target = { kind, asgName, bootTag };
  } else {
    if (kind === 'ecs' && p.optional('ecs-service') === undefined)
      throw new ConfigurationError('ecs-service', '', 'the ECS service name or ARN (target is ecs)');
    if (kind === 'ecs-express' && p.optional('express-service-arn') === undefined)
      throw new ConfigurationError(
        'express-service-arn',
        '',
        'the ECS Express Mode service ARN (target is ecs-express)',
      );
    const named = parseEcsTargetName(read);
    arnRegion = named.region;
    target =
      named.kind === 'ecs'
        ? { kind: named.kind, cluster: named.cluster, service: named.service }
        : { kind: named.kind, serviceArn: named.serviceArn };
  }
  // What names another platform's target is a mistake, not something to ignore.
  for (const [other, names] of Object.entries(TARGET_INPUTS)) {
    if (other === kind) continue;
    for (const name of names) {
      const value = p.optional(name);
      if (value !== undefined) throw new ConfigurationError(name, value, `empty when target is "${kind}"`);
    }
  }

  return { target, bootTag, ...(arnRegion ? { region: arnRegion } : {}) };
}

/** Parses and checks every input before any AWS call. */
export function parseRollbackInputs(read: InputReader, env: NodeJS.ProcessEnv): RollbackInputs {
  const p = inputParser(read);
  const environment = p.required('environment', 'the GitHub environment to roll back, e.g. "staging"');
  validateEnvironment('environment', environment);
  const service = resolveService('service', p.optional('service'), env);
  environmentPointerTag(environment, service.isDefault ? undefined : service.name);

  const { target, bootTag, region: arnRegion } = parseTargetOf(read, environment);
  const kind = target.kind;

  const repository = validateRepositoryName(
    'repository',
    p.required('repository', 'the name of the ECR repository holding the images, e.g. "web"'),
  );
  const toShaText = p.optional('to-sha');
  const toSha = toShaText === undefined ? undefined : validateCommitSha('to-sha', toShaText);
  const region = validateRegion(
    'region',
    p.optional('region') ?? arnRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
  );

  // Where the platform gives the service a URL, /health on it by default; through the load balancer otherwise.
  const servesUrl = kind === 'apprunner' || kind === 'ecs-express';
  const healthUrl = p.optional('health-url') ?? (servesUrl ? '/health' : undefined);
  const expectedVersionText = p.optional('expected-version');
  if (expectedVersionText !== undefined && healthUrl === undefined) {
    throw new ConfigurationError(
      'health-url',
      '',
      'a URL through the load balancer (e.g. https://web.example.com/version) to check expected-version at',
    );
  }
  let health: RollbackInputs['health'];
  if (healthUrl !== undefined) {
    const checked = parseHealthInputs(
      (name) => {
        if (name === 'url') return healthUrl;
        // parseHealthInputs asks for some inputs by their renamed names already, others by their own.
        const mine = healthNames[name] ?? (Object.values(healthNames).includes(name) ? name : undefined);
        return mine ? read(mine) : '';
      },
      { allowPath: servesUrl, rename: { url: 'health-url', ...healthNames } },
    );
    const { expectedVersion: _none, ...rest } = checked;
    health = rest;
  }

  const inputs: RollbackInputs = {
    environment,
    service,
    target,
    repository,
    region,
    token: p.optional('github-token') ?? '',
    bootTag,
    timeoutMs: p.number('timeout-minutes', 30, 0.1, 360) * 60_000,
    dryRun: p.boolean('dry-run', false),
    maskAwsAccountId: parseMaskAccountId(p),
  };
  if (toSha) inputs.toSha = toSha;
  if (health) inputs.health = health;
  if (expectedVersionText !== undefined) {
    inputs.expectedVersion = parseExpectedVersion(expectedVersionText);
  }
  return inputs;
}
