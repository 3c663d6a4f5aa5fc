import { ConfigurationError } from '../../core/errors';
import { type InputReader, inputParser } from '../../core/input';
import { environmentPointerTag, environmentTag } from '../../core/tags';
import {
  validateAppRunnerServiceArn,
  validateEnvironment,
  validateRegion,
  validateRepositoryName,
  validateTag,
} from '../../core/validate';

export type Target = 'apprunner' | 'asg';

export interface PipelineInputs {
  target: Target;
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
  /** undefined: the App Runner service URL + /health (required for asg). */
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
  timeoutMinutes: number;
  dryRun: boolean;
  comment: boolean;
  summary: boolean;
  githubToken: string;
  /** Raw values handed on to the single actions (they validate them). */
  passThrough: Record<string, string | undefined>;
}

const BUILD_INPUTS = [
  'commit',
  'context',
  'dockerfile',
  'build-args',
  'platforms',
  'skip-if-exists',
  'cache',
  'create-repository',
];
const REFRESH_INPUTS = [
  'min-healthy-percentage',
  'max-healthy-percentage',
  'instance-warmup',
  'checkpoint-percentages',
  'checkpoint-delay',
  'skip-matching',
  'auto-rollback',
  'bake-time',
  'alarms',
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
  const target = p.oneOf('target', ['apprunner', 'asg'] as const, 'apprunner');
  if (!p.optional('target')) throw new ConfigurationError('target', '', '"apprunner" or "asg"');
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
  // Checked here, not first by deploy-apprunner: a bad ARN must fail before anything is built and pushed.
  const arnRegion = serviceArn ? validateAppRunnerServiceArn('service-arn', serviceArn).region : undefined;
  const region = validateRegion(
    'region',
    p.optional('region') ?? arnRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
  );
  const healthUrl = httpUrl('health-url', p.optional('health-url'));
  if (target === 'asg' && !healthUrl) {
    throw new ConfigurationError(
      'health-url',
      '',
      "a URL through the group's load balancer, e.g. https://web.example.com/health (target is asg)",
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
  for (const tag of p.list('tags')) validateTag('tags', tag);

  const passThrough: Record<string, string | undefined> = {};
  for (const name of [...BUILD_INPUTS, ...REFRESH_INPUTS]) passThrough[name] = p.optional(name);
  passThrough.target = p.optional('build-target');
  passThrough.tags = p.list('tags').join('\n');

  return {
    target,
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
    expectedStatus: p.integer('expected-status', 200, 100, 599) ?? 200,
    healthTimeoutMs: p.number('health-timeout-minutes', 5, 0.1, 120) * 60_000,
    healthIntervalMs: p.number('health-interval-seconds', 5, 0.1, 600) * 1000,
    consecutiveSuccesses: p.integer('health-consecutive-successes', 3, 1, 100) ?? 3,
    rollbackOnFailure: p.boolean('rollback-on-failure', true),
    timeoutMinutes: p.number('timeout-minutes', 30, 0.1, 360),
    dryRun: p.boolean('dry-run', false),
    comment: p.boolean('comment', true),
    summary: p.boolean('summary', true),
    githubToken: p.optional('github-token') ?? '',
    passThrough,
  };
}
