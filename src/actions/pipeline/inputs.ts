import { ConfigurationError } from '../../core/errors';
import { type InputReader, inputParser } from '../../core/input';
import { newRecord, serializeRecord } from '../../core/record';
import { environmentPointerTag, environmentTag } from '../../core/tags';
import {
  validateAppRunnerServiceArn,
  validateEnvironment,
  validateRegion,
  validateRepositoryName,
  validateTag,
} from '../../core/validate';
import { ON_PAUSED_CHOICES, type OnPaused } from '../../deploy/paused';
import { type TargetSpec, targetCapabilities } from '../../targets';
import { type BakeInputs, parseBakeInputs } from '../bake-step';
import { imageIndexInput } from '../build-push/build-features';
import { type BuildPushInputs, parseBuildPushInputs } from '../build-push/inputs';
import { parseDeployAppRunnerInputs } from '../deploy-apprunner/inputs';
import { parseDeployEcsInputs, parseEcsTargetName } from '../deploy-ecs/inputs';
import { parseVerifyTimings } from '../health-check/inputs';
import { parseRefreshAsgInputs } from '../refresh-asg/inputs';
import { parseReportInputs, type ReportInputs } from '../report/inputs';

export interface PipelineInputs {
  /** The platform and its settings, as its single action parses them. */
  target: TargetSpec;
  repository: string;
  environment: string;
  region: string;
  serviceArn?: string;
  asgName?: string;
  bootTag: string;
  /** The environment that owns `latest`; undefined: no environment moves it. */
  latestEnvironment?: string;
  /** Whether this deploy moves `latest` once verified (environment is latestEnvironment). */
  movesLatest: boolean;
  /** undefined: the service URL + the target's default health path (App Runner, ECS Express; required for asg, ecs). */
  healthUrl?: string;
  /** undefined: health-url's origin + /version. */
  versionUrl?: string;
  /** undefined: the commit SHA; '' when the user said "none". */
  expectedVersion?: string;
  expectedStatus: number;
  healthTimeoutMs: number;
  healthIntervalMs: number;
  consecutiveSuccesses: number;
  rollbackOnFailure: boolean;
  /** A target the schedule paused: fail before building anything (default), or resume it first. */
  onPaused: OnPaused;
  timeoutMinutes: number;
  /** `alarms` and `bake-time`: the bake after the verification, on every platform. */
  bake: BakeInputs;
  dryRun: boolean;
  /** The build-push phase's inputs, parsed by build-push's own parser. */
  build: BuildPushInputs;
  /** The report phase's inputs, parsed by report's own parser (the record comes from the run). */
  report: Omit<ReportInputs, 'record'>;
  /** The commit input as given (the dry-run plan names it). */
  commit?: string;
}

/**
 * docker/build-push-action parity, handed to build-push as they are (registry-id is build-push's only: the pointer
 * tags, the rollback and the plan read the job's own registry).
 */
export const BUILD_FEATURE_INPUTS = [
  'secrets',
  'secret-files',
  'ssh',
  'labels',
  'annotations',
  'provenance',
  'sbom',
  'no-cache',
  'pull',
] as const;
const BUILD_INPUTS = [
  'commit',
  'context',
  'dockerfile',
  'build-args',
  'platforms',
  'skip-if-exists',
  'cache',
  'create-repository',
  ...BUILD_FEATURE_INPUTS,
  'mask-aws-account-id',
];
const TARGETS = ['apprunner', 'asg', 'ecs', 'ecs-express'] as const;
const TARGETS_ACCEPTED = '"apprunner", "asg", "ecs" or "ecs-express"';
/** Handed to the target's parser as they are: each platform's parser checks its own (on-busy: its own choices). */
export const ECS_INPUTS = [
  'cluster',
  'ecs-service',
  'express-service-arn',
  'container',
  'task-definition',
  'container-environment',
  'on-busy',
] as const;
const REFRESH_INPUTS = [
  'min-healthy-percentage',
  'max-healthy-percentage',
  'instance-warmup',
  'checkpoint-percentages',
  'checkpoint-delay',
  'skip-matching',
  'auto-rollback',
  'refresh-bake-time',
  'scale-in-protected-instances',
  'standby-instances',
  'launch-template-version',
];

function httpUrl(input: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(input, value, 'an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigurationError(input, value, 'an http:// or https:// URL');
  return value;
}

/** Reads and checks every input before anything is built or any AWS call is made. */
export function parsePipelineInputs(read: InputReader, env: NodeJS.ProcessEnv): PipelineInputs {
  const p = inputParser(read);
  const target = p.oneOf('target', TARGETS, 'apprunner');
  if (!p.optional('target')) throw new ConfigurationError('target', '', TARGETS_ACCEPTED);
  const repository = validateRepositoryName('repository', p.required('repository', 'an ECR repository name'));
  const environment = validateEnvironment(
    'environment',
    p.required('environment', 'an environment name such as staging or production'),
  );
  // The environment names two tags (<environment> and deployed-<environment>): both must be valid ECR tags.
  environmentPointerTag(environment);
  if (!/^[a-z0-9_]/.test(environmentTag(environment))) {
    throw new ConfigurationError(
      'environment',
      environment,
      'an environment name that starts with a letter, a digit or _ (it names the image tag of the environment)',
    );
  }
  const serviceArn = p.optional('service-arn');
  const asgName = p.optional('asg-name');
  if (target === 'apprunner' && !serviceArn)
    throw new ConfigurationError('service-arn', '', 'the App Runner service ARN (target is apprunner)');
  if (target === 'asg' && !asgName)
    throw new ConfigurationError('asg-name', '', 'the Auto Scaling group name (target is asg)');
  if (target === 'ecs' && !p.optional('ecs-service'))
    throw new ConfigurationError('ecs-service', '', 'the ECS service name or ARN (target is ecs)');
  if (target === 'ecs-express' && !p.optional('express-service-arn'))
    throw new ConfigurationError('express-service-arn', '', 'the ECS Express Mode service ARN (target is ecs-express)');
  // Checked here, not first by the target's parser: a bad ARN must fail before anything is built and pushed.
  const arnRegion = serviceArn
    ? validateAppRunnerServiceArn('service-arn', serviceArn).region
    : target === 'ecs' || target === 'ecs-express'
      ? parseEcsTargetName(read).region
      : undefined;
  const region = validateRegion(
    'region',
    p.optional('region') ?? arnRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
  );
  const healthUrl = httpUrl('health-url', p.optional('health-url'));
  if ((target === 'asg' || target === 'ecs') && !healthUrl) {
    throw new ConfigurationError(
      'health-url',
      '',
      `a URL through the ${target === 'asg' ? "group's" : "service's"} load balancer, e.g. ` +
        `https://web.example.com/health (target is ${target})`,
    );
  }
  const versionUrl = httpUrl('version-url', p.optional('version-url'));
  const expectedText = p.optional('expected-version');
  const expectedVersion =
    expectedText === undefined ? undefined : expectedText.toLowerCase() === 'none' ? '' : expectedText;
  // The environment's own tag by default: a group booting a tag that other environments move (`latest`) would
  // launch their image at its next scale-out.
  const bootTag = validateTag('boot-tag', p.optional('boot-tag') ?? environmentTag(environment));
  const latestText = p.optional('latest-environment');
  const latestEnvironment =
    latestText === undefined ? undefined : validateEnvironment('latest-environment', latestText);
  const movesLatest = latestEnvironment === environment;
  if (target === 'asg' && bootTag === 'latest' && !movesLatest) {
    // The boot tag moves before the refresh (and before the verification): `latest` would leave its owner.
    throw new ConfigurationError(
      'boot-tag',
      bootTag,
      `a tag of this environment (default: ${environmentTag(environment)}); \`latest\` only when latest-environment ` +
        `is ${JSON.stringify(environment)}${latestEnvironment ? ` (it is ${JSON.stringify(latestEnvironment)})` : ' (it is not set)'}`,
    );
  }

  const passThrough: Record<string, string | undefined> = {};
  for (const name of [...BUILD_INPUTS, ...REFRESH_INPUTS, ...ECS_INPUTS]) passThrough[name] = p.optional(name);
  // Every phase checks (and the build's record carries) the same service.
  passThrough.service = p.optional('service');
  // The alarm names also reach the platform's own alarm watch (ECS deployment alarms) through its parser.
  passThrough.alarms = p.optional('alarms');
  const timeoutMinutes = p.number('timeout-minutes', 30, 0.1, 360);
  // The same `alarms` reach the instance refresh's AlarmSpecification through refresh-asg's own parser (names only).
  const bake = parseBakeInputs(p, timeoutMinutes);
  const reader = (values: Record<string, string | undefined>) => (name: string) => values[name] ?? '';
  // The single actions' own parsers check what the pipeline hands on, so a bad refresh preference fails now, not
  // after the image was built and pushed. The build makes the record the later phases share; a stand-in of its
  // shape stands for it here (a dry run from a laptop has no GITHUB_SHA to start one from).
  const build = parseBuildPushInputs(
    reader({
      ...passThrough,
      target: p.optional('build-target'),
      // Only sha-<commit> and the user's tags: the environment tag (and `latest`, for latest-environment only)
      // move after the new version is verified, so a service that tracks one of them still names the old image if
      // the deploy is rolled back.
      tags: p.list('tags').join('\n'),
      repository,
      region,
    }),
    env,
  );
  const standIn = serializeRecord(newRecord('0000000', { environment }));
  checkImageIndex(build, target);
  const spec = targetSpec(
    target,
    reader({
      ...passThrough,
      'service-arn': serviceArn,
      'asg-name': asgName,
      repository,
      'boot-tag': bootTag,
      region,
      'timeout-minutes': String(timeoutMinutes),
      'health-url': healthUrl,
      record: standIn,
    }),
    env,
  );
  const { record: _standIn, ...report } = parseReportInputs(
    reader({
      record: standIn,
      environment,
      service: passThrough.service,
      'github-token': p.optional('github-token'),
      comment: p.optional('comment'),
      summary: p.optional('summary'),
    }),
    env,
  );

  return {
    target: spec,
    repository,
    environment,
    region,
    ...(serviceArn ? { serviceArn } : {}),
    ...(asgName ? { asgName } : {}),
    bootTag,
    ...(latestEnvironment !== undefined ? { latestEnvironment } : {}),
    movesLatest,
    ...(healthUrl ? { healthUrl } : {}),
    ...(versionUrl ? { versionUrl } : {}),
    ...(expectedVersion !== undefined ? { expectedVersion } : {}),
    ...parseVerifyTimings(p),
    rollbackOnFailure: p.boolean('rollback-on-failure', true),
    onPaused: p.oneOf('on-paused', ON_PAUSED_CHOICES, 'fail'),
    timeoutMinutes,
    bake,
    dryRun: p.boolean('dry-run', false),
    build,
    report,
    ...(passThrough.commit ? { commit: passThrough.commit } : {}),
  };
}

/** Refuses a build that pushes an image index (several platforms, attestations) for a target that cannot run one. */
function checkImageIndex(build: BuildPushInputs, kind: TargetSpec['kind']): void {
  const { imageIndex } = targetCapabilities(kind);
  const asked = imageIndexInput(build);
  if (asked && !imageIndex.runs) {
    throw new ConfigurationError(
      asked.input,
      asked.given,
      `${asked.input === 'platforms' ? 'a single platform' : '"false"'} for target ${kind}: ${imageIndex.why}, ` +
        `and ${asked.input === 'platforms' ? 'several platforms make' : `${asked.input} makes`} the pushed image one`,
    );
  }
}

/** The target's settings, parsed by its single action's own parser from what the pipeline hands on. */
function targetSpec(kind: (typeof TARGETS)[number], read: InputReader, env: NodeJS.ProcessEnv): TargetSpec {
  // An image of the right shape (the real one is built later), and the platform's own rollback only: the pipeline
  // verifies and rolls back itself.
  const standIn = (name: string) => {
    if (name === 'image')
      return `123456789012.dkr.ecr.${read('region')}.amazonaws.com/${read('repository')}@sha256:${'0'.repeat(64)}`;
    if (name === 'rollback-on-failure') return 'false';
    // The pipeline checks the version itself (its expected-version may be "none").
    if (name === 'expected-version' || name === 'version-url') return '';
    return read(name);
  };
  if (kind === 'apprunner') {
    const parsed = parseDeployAppRunnerInputs(standIn, env);
    return { kind, serviceArn: parsed.serviceArn, onBusy: parsed.onBusy };
  }
  if (kind === 'ecs' || kind === 'ecs-express') return parseDeployEcsInputs(standIn, env).target;
  const parsed = parseRefreshAsgInputs(read, env);
  return {
    kind,
    asgName: parsed.asgName,
    bootTag: parsed.bootTag,
    preferences: parsed.preferences,
    ...(parsed.launchTemplateVersion ? { launchTemplateVersion: parsed.launchTemplateVersion } : {}),
    onBusy: parsed.onBusy,
    cancelOnAbort: parsed.cancelOnAbort,
    ...(parsed.verifyTargetGroups !== undefined ? { verifyTargetGroups: parsed.verifyTargetGroups } : {}),
  };
}
