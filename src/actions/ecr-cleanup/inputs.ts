import { ConfigurationError } from '../../core/errors';
import { type InputReader, inputParser } from '../../core/input';
import { validateDigest, validateEnvironment, validateRegion, validateRepositoryName } from '../../core/validate';
import type { TargetSpec } from '../../targets';
import { parseTargetOf } from '../rollback/inputs';

export interface EcrCleanupInputs {
  repository: string;
  region: string;
  /** Empty when none was given: the cleanup then refuses unless keepWithoutHistory. */
  token: string;
  keepDeployments: number;
  keepDays: number;
  keepTags: string[];
  keepImages: string[];
  includeBuildCache: boolean;
  keepWithoutHistory: boolean;
  dryRun: boolean;
  lifecyclePolicy: boolean;
  /** A target whose running image is read (Target.current()) and kept. */
  target?: TargetSpec;
}

// ECR's tag characters, plus the `*` of a pattern; ECR's tagPatternList takes at most four wildcards per pattern.
const tagPatternText = /^[A-Za-z0-9_.*-]{1,128}$/;
const TAG_PATTERN = 'tags or tag patterns (A-Z a-z 0-9 _ . - and at most four * wildcards), one per line';

function keepTags(values: readonly string[]): string[] {
  for (const value of values) {
    if (!tagPatternText.test(value) || (value.match(/\*/g)?.length ?? 0) > 4)
      throw new ConfigurationError('keep-tags', value, TAG_PATTERN);
  }
  if (values.length > 90) throw new ConfigurationError('keep-tags', `${values.length} patterns`, 'at most 90 patterns');
  return [...new Set(values)];
}

/** Parses and checks every input before any AWS or GitHub call. */
export function parseEcrCleanupInputs(read: InputReader, env: NodeJS.ProcessEnv): EcrCleanupInputs {
  const p = inputParser(read);
  const repository = validateRepositoryName(
    'repository',
    p.required('repository', 'the name of the ECR repository to clean up, e.g. "web"'),
  );
  let target: TargetSpec | undefined;
  let arnRegion: string | undefined;
  if (p.optional('target') !== undefined) {
    const environment = p.required('environment', 'the environment the target runs (target is set), e.g. "production"');
    validateEnvironment('environment', environment);
    const named = parseTargetOf(read, environment);
    target = named.target;
    arnRegion = named.region;
  }
  const region = validateRegion(
    'region',
    p.optional('region') ?? arnRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
  );
  const keepDays = p.integer('keep-days', 30, 0, 3650)!;
  const lifecyclePolicy = p.boolean('lifecycle-policy', false);
  if (lifecyclePolicy && keepDays < 1)
    throw new ConfigurationError(
      'keep-days',
      String(keepDays),
      'at least 1 with lifecycle-policy: true (ECR expires untagged images a whole number of days after their push)',
    );
  const inputs: EcrCleanupInputs = {
    repository,
    region,
    token: p.optional('github-token') ?? '',
    keepDeployments: p.integer('keep-deployments', 10, 1, 1000)!,
    keepDays,
    keepTags: keepTags(read('keep-tags') === '' ? ['latest'] : p.list('keep-tags')),
    keepImages: p.list('keep-images').map((digest) => validateDigest('keep-images', digest)),
    includeBuildCache: p.boolean('include-build-cache', false),
    keepWithoutHistory: p.boolean('keep-without-history', false),
    dryRun: p.boolean('dry-run', true),
    lifecyclePolicy,
  };
  if (target) inputs.target = target;
  return inputs;
}
