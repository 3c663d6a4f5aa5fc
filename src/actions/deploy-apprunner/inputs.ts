import { ConfigurationError } from '../../core/errors';
import { type InputReader, inputParser } from '../../core/input';
import { type DeployRecord, newRecord, parseRecord, runFromEnv } from '../../core/record';
import { stampService } from '../../core/service';
import { commitContextFromEnv, commitOf } from '../../core/tags';
import { validateAppRunnerServiceArn, validateRegion } from '../../core/validate';
import { ON_PAUSED_CHOICES, type OnPaused } from '../../deploy/paused';
import { parseImageReference } from '../../targets/apprunner/image-reference';
import type { AppRunnerOnBusy, VerifyOptions } from '../../targets/apprunner/types';
import { parseMaskAccountId } from '../account-mask';
import { type BakeInputs, parseBakeInputs } from '../bake-step';
import { parseHealthInputs } from '../health-check/inputs';

export interface DeployAppRunnerInputs {
  serviceArn: string;
  /** The identifier given to App Runner (digest form when the input had a digest). */
  image: string;
  region: string;
  wait: boolean;
  timeoutMs: number;
  onBusy: AppRunnerOnBusy;
  /** The record given as input, or a new one for this commit. */
  record: DeployRecord;
  verify?: VerifyOptions;
  rollbackOnFailure: boolean;
  /** mask-aws-account-id: the account IDs of the service ARN and the registry are masked in the log. */
  maskAwsAccountId: boolean;
  /** A target the schedule paused: fail before changing anything (default), or resume it first. */
  onPaused: OnPaused;
  /** `alarms` and `bake-time`: watched after App Runner's success and the verification. */
  bake: BakeInputs;
}

/** The bake watches the deployed version: with wait false the step ends before there is one to watch. */
function parseBakeAfterWait(p: ReturnType<typeof inputParser>, timeoutMinutes: number): BakeInputs {
  const bake = parseBakeInputs(p, timeoutMinutes);
  if (bake.bakeSeconds > 0 && !p.boolean('wait', true)) {
    throw new ConfigurationError(
      'bake-time',
      String(bake.bakeSeconds),
      '0 when wait is false (a bake watches the deployed version)',
    );
  }
  return bake;
}

/** Parses and checks every input before any AWS call. */
export function parseDeployAppRunnerInputs(read: InputReader, env: NodeJS.ProcessEnv): DeployAppRunnerInputs {
  const p = inputParser(read);
  const serviceArn = p.required('service-arn', 'the ARN of an App Runner service');
  const arnRegion = validateAppRunnerServiceArn('service-arn', serviceArn).region;
  const image = parseImageReference('image', p.required('image', 'an image URI with a digest or a tag')).identifier;
  // The service lives in the ARN's region; an explicit input still wins so that a mismatch is reported by AWS.
  const region = validateRegion(
    'region',
    p.optional('region') ?? arnRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
  );
  const timeoutMinutes = p.number('timeout-minutes', 30, 0.1, 360);
  const onBusy = p.oneOf('on-busy', ['wait', 'fail'] as const, 'wait');

  const recordText = p.optional('record');
  const record = recordText
    ? parseRecord('record', recordText)
    : newRecord(commitOf(commitContextFromEnv(env)), { run: runFromEnv(env) });
  stampService(p.optional('service'), env, record);

  const healthUrl = p.optional('health-url');
  let verify: VerifyOptions | undefined;
  if (healthUrl !== undefined) {
    verify = parseHealthInputs((name) => (name === 'url' ? healthUrl : read(name)), {
      allowPath: true,
      rename: { url: 'health-url', 'timeout-minutes': 'health-timeout-minutes' },
    });
  } else if (p.optional('expected-version') !== undefined) {
    throw new ConfigurationError(
      'health-url',
      '',
      'a URL (or a path such as /version on the service) to check expected-version at',
    );
  }
  const rollbackOnFailure = p.boolean('rollback-on-failure', healthUrl !== undefined);
  if (rollbackOnFailure && healthUrl === undefined) {
    throw new ConfigurationError(
      'rollback-on-failure',
      'true',
      '"false" unless health-url is set: without a health check only App Runner\'s own rollback applies',
    );
  }
  return {
    serviceArn,
    image,
    region,
    wait: p.boolean('wait', true),
    timeoutMs: timeoutMinutes * 60_000,
    onBusy,
    record,
    ...(verify ? { verify } : {}),
    rollbackOnFailure,
    maskAwsAccountId: parseMaskAccountId(p),
    onPaused: p.oneOf('on-paused', ON_PAUSED_CHOICES, 'fail'),
    bake: parseBakeAfterWait(p, timeoutMinutes),
  };
}
