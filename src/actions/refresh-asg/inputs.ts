import { ConfigurationError } from '../../core/errors';
import { type InputReader, inputParser } from '../../core/input';
import { type DeployRecord, newRecord, parseRecord, runFromEnv } from '../../core/record';
import { stampService } from '../../core/service';
import { commitContextFromEnv, commitOf } from '../../core/tags';
import { parseDigestUri, validateRegion, validateRepositoryName, validateTag } from '../../core/validate';
import { parseAlarmSelector } from '../../deploy/bake';
import { ON_PAUSED_CHOICES, type OnPaused } from '../../deploy/paused';
import { type AsgOnBusy, DEFAULT_MIN_HEALTHY_PERCENTAGE, type RefreshPreferences } from '../../targets/asg/refresh';
import { checkPreferencesFitTimeout } from '../../targets/asg/refresh-plan';
import { parseMaskAccountId } from '../account-mask';

export interface RefreshAsgInputs {
  asgName: string;
  /** From `image`: the digest the boot tag is moved to, and the repository it lives in. */
  image?: { uri: string; repository: string; digest: string };
  /** Where the boot tag lives: `repository`, else the repository of `image`. */
  repository?: string;
  bootTag: string;
  region: string;
  preferences: RefreshPreferences;
  launchTemplateVersion?: string;
  onBusy: AsgOnBusy;
  /** A target the schedule paused: fail before changing anything (default), or resume it first. */
  onPaused: OnPaused;
  wait: boolean;
  timeoutMs: number;
  cancelOnAbort: boolean;
  /** undefined: verify when the group has target groups. */
  verifyTargetGroups?: boolean;
  record: DeployRecord;
  /** mask-aws-account-id: the account ID of the image's registry is masked in the log. */
  maskAwsAccountId: boolean;
}

const MAX_SECONDS = 172_800;

function checkpoints(p: ReturnType<typeof inputParser>, raw: string): number[] | undefined {
  const items = p.list('checkpoint-percentages');
  if (items.length === 0) return undefined;
  // AWS accepts a list that stops short of 100 (e.g. "20,50"): it then replaces only that share of the group.
  const accepted =
    'unique ascending whole percentages from 1 to 100, comma or newline separated (e.g. "25,50,100"; end ' +
    'with 100 to replace every instance)';
  const values = items.map((item) => Number(item));
  const valid =
    values.every((v) => Number.isInteger(v) && v >= 1 && v <= 100) &&
    values.every((v, i) => i === 0 || v > values[i - 1]!);
  if (!valid) throw new ConfigurationError('checkpoint-percentages', raw, accepted);
  return values;
}

/** Parses and checks every input before any AWS call. */
export function parseRefreshAsgInputs(read: InputReader, env: NodeJS.ProcessEnv): RefreshAsgInputs {
  const p = inputParser(read);
  const asgName = p.required('asg-name', 'the name of an EC2 Auto Scaling group');
  if (asgName.length > 255) throw new ConfigurationError('asg-name', asgName, 'a group name of at most 255 characters');

  const imageText = p.optional('image');
  let image: RefreshAsgInputs['image'];
  if (imageText !== undefined) {
    const parsed = parseDigestUri('image', imageText, 'since the boot tag must be moved to an exact digest');
    image = { uri: imageText, repository: parsed.repository, digest: parsed.digest };
  }
  const repositoryInput = p.optional('repository');
  if (repositoryInput !== undefined) validateRepositoryName('repository', repositoryInput);
  if (image && repositoryInput && repositoryInput !== image.repository) {
    throw new ConfigurationError(
      'repository',
      repositoryInput,
      `the repository of image (${image.repository}), or empty`,
    );
  }
  const repository = repositoryInput ?? image?.repository;
  // Required with an image or a repository: this action knows no environment, and a default such as `latest` would
  // be shared by every group. A refresh of a launch template version alone moves no tag.
  const bootTagText =
    repository === undefined
      ? p.optional('boot-tag')
      : p.required(
          'boot-tag',
          'the tag this group\'s instances pull at boot, e.g. the environment\'s name ("staging")',
        );
  const bootTag = bootTagText === undefined ? '' : validateTag('boot-tag', bootTagText);
  const region = validateRegion('region', p.optional('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION);

  const minHealthy =
    p.integer('min-healthy-percentage', DEFAULT_MIN_HEALTHY_PERCENTAGE, 0, 100) ?? DEFAULT_MIN_HEALTHY_PERCENTAGE;
  const maxHealthy = p.integer('max-healthy-percentage', undefined, 100, 200);
  if (maxHealthy !== undefined && maxHealthy - minHealthy > 100) {
    throw new ConfigurationError(
      'max-healthy-percentage',
      String(maxHealthy),
      `a percentage from 100 to 200 at most 100 above min-healthy-percentage (${minHealthy}), i.e. at most ${minHealthy + 100}`,
    );
  }
  const checkpointPercentages = checkpoints(p, read('checkpoint-percentages'));
  const checkpointDelay = p.integer('checkpoint-delay', undefined, 0, MAX_SECONDS);
  if (checkpointDelay !== undefined && !checkpointPercentages) {
    throw new ConfigurationError(
      'checkpoint-delay',
      String(checkpointDelay),
      'to be left empty unless checkpoint-percentages is set (the delay is the wait at each checkpoint)',
    );
  }
  const launchTemplateVersion = p.optional('launch-template-version');
  if (launchTemplateVersion !== undefined && !/^(?:[1-9]\d{0,17}|\$Latest|\$Default)$/.test(launchTemplateVersion)) {
    throw new ConfigurationError(
      'launch-template-version',
      launchTemplateVersion,
      'a launch template version number, "$Latest" or "$Default"',
    );
  }
  const autoRollback = p.boolean('auto-rollback', false);
  if (autoRollback && launchTemplateVersion === undefined) {
    throw new ConfigurationError(
      'auto-rollback',
      'true',
      '"false" unless launch-template-version is set: AWS rolls back only refreshes with a desired configuration',
    );
  }
  if (autoRollback && (launchTemplateVersion === '$Latest' || launchTemplateVersion === '$Default')) {
    throw new ConfigurationError(
      'launch-template-version',
      launchTemplateVersion,
      'a version number when auto-rollback is true: AWS cannot roll back to $Latest or $Default',
    );
  }
  const skipMatching = p.boolean('skip-matching', false);
  if (skipMatching && image && launchTemplateVersion === undefined) {
    throw new ConfigurationError(
      'skip-matching',
      'true',
      '"false" when image moves the boot tag without a launch-template-version: AWS compares launch template ' +
        'versions only, so every instance would count as matching and keep the old image',
    );
  }
  // The instance refresh watches alarms by name (AlarmSpecification, at most 10); a prefix ("web-*") is the
  // all-in-one action's bake's alone.
  const alarms = parseAlarmSelector('alarms', p.list('alarms')).names;
  if (alarms.length > 10) {
    throw new ConfigurationError(
      'alarms',
      alarms.join(','),
      'at most 10 CloudWatch alarm names (the instance refresh watches at most 10)',
    );
  }

  const preferences: RefreshPreferences = {
    minHealthyPercentage: minHealthy,
    skipMatching,
    autoRollback,
  };
  if (maxHealthy !== undefined) preferences.maxHealthyPercentage = maxHealthy;
  const warmup = p.integer('instance-warmup', undefined, 0, MAX_SECONDS);
  if (warmup !== undefined) preferences.instanceWarmup = warmup;
  if (checkpointPercentages) preferences.checkpointPercentages = checkpointPercentages;
  if (checkpointDelay !== undefined) preferences.checkpointDelay = checkpointDelay;
  const bakeTime = p.integer('refresh-bake-time', undefined, 0, MAX_SECONDS);
  if (bakeTime !== undefined) preferences.bakeTime = bakeTime;
  if (alarms.length > 0) preferences.alarms = alarms;
  const scaleInProtected = p.optional('scale-in-protected-instances');
  if (scaleInProtected !== undefined) {
    preferences.scaleInProtectedInstances = p.oneOf(
      'scale-in-protected-instances',
      ['Refresh', 'Ignore', 'Wait'] as const,
      'Wait',
    );
  }
  const standby = p.optional('standby-instances');
  if (standby !== undefined) {
    preferences.standbyInstances = p.oneOf('standby-instances', ['Terminate', 'Ignore', 'Wait'] as const, 'Wait');
  }

  const verifyText = p.optional('verify-target-groups');
  const recordText = p.optional('record');
  const record = recordText
    ? parseRecord('record', recordText)
    : newRecord(commitOf(commitContextFromEnv(env)), { run: runFromEnv(env) });
  stampService(p.optional('service'), env, record);

  const inputs: RefreshAsgInputs = {
    asgName,
    bootTag,
    region,
    preferences,
    onBusy: p.oneOf('on-busy', ['wait', 'cancel', 'fail'] as const, 'wait'),
    wait: p.boolean('wait', true),
    timeoutMs: (p.integer('timeout-minutes', 30, 1, 360) ?? 30) * 60_000,
    cancelOnAbort: p.boolean('cancel-on-abort', true),
    onPaused: p.oneOf('on-paused', ON_PAUSED_CHOICES, 'fail'),
    record,
    maskAwsAccountId: parseMaskAccountId(p),
  };
  if (inputs.wait) checkPreferencesFitTimeout(preferences, inputs.timeoutMs);
  if (image) inputs.image = image;
  if (repository) inputs.repository = repository;
  if (launchTemplateVersion !== undefined) inputs.launchTemplateVersion = launchTemplateVersion;
  if (verifyText !== undefined) inputs.verifyTargetGroups = p.boolean('verify-target-groups', true);
  return inputs;
}
