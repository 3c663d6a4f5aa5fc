import type { ECRClient } from '@aws-sdk/client-ecr';
import {
  createRepository,
  describeRepository,
  ecrClient,
  findImage,
  getLogin,
  promoteImage,
  type RepositoryInfo,
} from '../../aws/ecr';
import { ConfigurationError, DeployError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { code, table } from '../../core/markdown';
import { type DeployRecord, inPhase, newRecord, recordFailure, runFromEnv, serializeRecord } from '../../core/record';
import {
  type BuildSpec,
  buildxArgs,
  classicBuildArgs,
  type Docker,
  dockerOrFail,
  execDocker,
  exportsCache,
  findExecutable,
  hasBuildx,
  loginArgs,
  pushArgs,
  secretEnv,
} from '../../docker/docker';
import { maskAccountIds } from '../account-mask';
import type { StepResult } from '../compose';
import type { ActionDeps } from '../runtime';
import { builderFor, checkEngine, driverNeeds } from './engine';
import type { BuildPushInputs } from './inputs';
import { rememberLogin } from './registry-logout';

/** Replaceable parts, for tests: the ECR client, the docker CLI and the working directory. */
export interface BuildPushServices {
  ecr?: ECRClient;
  docker?: Docker;
  cwd?: string;
}

interface BuildResult {
  registry: string;
  /** Undefined only when push is false: nothing reached the registry. */
  digest: string | undefined;
  reused: boolean;
}

/** What was built (or reused) and pushed. */
export interface BuiltImage {
  /** `<registry>/<repository>@<digest>`, or `…:<sha tag>` when nothing was pushed. */
  uri: string;
  digest?: string;
  registry: string;
  reused: boolean;
}

/**
 * Builds and pushes the commit's image, or reuses it when ECR has it already. Writes the step's outputs and summary;
 * returns the record it started (failed, with the error, when the build failed) instead of throwing.
 */
export async function execute(
  deps: ActionDeps,
  inputs: BuildPushInputs,
  services: BuildPushServices = {},
): Promise<StepResult<BuiltImage>> {
  // First of all: the runner then masks them in anything printed, docker's own output included.
  for (const { value } of inputs.secrets) deps.setSecret(value);
  const executable = findExecutable(inputs.docker, deps.env);
  if (!executable) {
    throw new ConfigurationError(
      'docker',
      inputs.docker,
      `a docker CLI on PATH (${deps.env.PATH ?? 'PATH is not set'}) or its full path: install Docker on the runner ` +
        '(GitHub-hosted Ubuntu runners have it) or point this input at it',
    );
  }
  const docker = services.docker ?? execDocker(executable, deps.env);
  // Asked while ECR is: a reused image needs no build. Only inputs that need buildx (or a flag of the plain build)
  // must know first: what this docker cannot build is an input error.
  const buildx = hasBuildx(docker).catch(() => false);
  await checkEngine(inputs, docker, buildx);

  const client = services.ecr ?? ecrClient(inputs.region, deps.env);
  const record = newRecord(inputs.commit, { service: inputs.service.name, run: runFromEnv(deps.env) });
  try {
    const result = await inPhase(record, 'build', deps.clock, () =>
      buildOrReuse(inputs, { client, docker, executable, buildx, deps }),
    );
    const phase = record.phases.at(-1);
    if (phase) phase.detail = result.reused ? `reused ${inputs.tags[0]}: nothing built` : 'built and pushed';
    const uri = writeOutputs(deps, inputs, result, record);
    await deps.writeSummary(summary(inputs, result));
    return {
      record,
      value: {
        uri,
        registry: result.registry,
        reused: result.reused,
        ...(result.digest ? { digest: result.digest } : {}),
      },
    };
  } catch (error) {
    recordFailure(record, 'failed', error instanceof Error ? error.message : String(error));
    deps.setOutput('record', serializeRecord(record));
    return { record, error };
  }
}

async function buildOrReuse(
  inputs: BuildPushInputs,
  ctx: { client: ECRClient; docker: Docker; executable: string; buildx: Promise<boolean>; deps: ActionDeps },
): Promise<BuildResult> {
  const { client, docker, deps } = ctx;
  const logger = deps.logger;
  const { repository, registryId } = inputs;
  const [shaTag, ...extraTags] = inputs.tags as [string, ...string[]];

  const repo = await ensureRepository(client, inputs, logger);
  maskAccountIds(deps, inputs.maskAwsAccountId, repo.uri);
  const registry = repo.uri.split('/')[0] ?? '';

  if (inputs.push && (inputs.skipIfExists || repo.mutability !== 'MUTABLE')) {
    const existing = await findImage(client, repository, shaTag, { registryId });
    if (existing && !inputs.skipIfExists) {
      // Known only after asking ECR, so not a ConfigurationError (those come before any AWS call).
      throw new DeployError(
        `Could not rebuild ${repository}:${shaTag}: the repository's tags are ${repo.mutability} and ${shaTag} is ` +
          `already there (${existing.digest}), so a rebuild could not be pushed. Set skip-if-exists: true to reuse it.`,
      );
    }
    if (existing) {
      logger.info(`${repository}:${shaTag} is already in ECR (${existing.digest}): reusing it, nothing is built.`);
      const missing = extraTags.filter((tag) => !existing.tags.includes(tag));
      if (missing.length > 0) {
        await promoteImage(client, { repository, source: existing.digest, tags: missing, logger, registryId });
      }
      return { registry, digest: existing.digest, reused: true };
    }
  }

  const buildx = await ctx.buildx;
  // ECR refuses to rewrite a tag of an IMMUTABLE repository, the cache tag included: only read it there.
  const cacheWritable = repo.mutability === 'MUTABLE';
  const builder = buildx
    ? await builderFor(docker, driverNeeds(inputs, exportsCache({ cache: inputs.cache, cacheWritable })), logger)
    : undefined;

  const login = await getLogin(client, registryId);
  deps.setSecret(login.password);
  await dockerOrFail(docker, `log in to ${login.registry}`, loginArgs(login.registry, login.username), {
    input: login.password,
  });
  // The post step logs out of exactly this registry, with this CLI.
  rememberLogin(deps, login.registry, ctx.executable);

  const ref = (tag: string) => `${registry}/${repository}:${tag}`;
  const spec: BuildSpec = {
    context: inputs.context,
    buildArgs: inputs.buildArgs,
    platforms: inputs.platforms,
    // Only the sha tag is pushed; the extra tags follow by digest once it is complete, so no tag ever names a
    // half-pushed image. Without a push, every tag is applied locally.
    tags: inputs.push ? [ref(shaTag)] : inputs.tags.map(ref),
    labels: labels(inputs, deps),
    annotations: inputs.annotations,
    secretFiles: inputs.secretFiles,
    ssh: inputs.ssh,
    noCache: inputs.noCache,
    pull: inputs.pull,
  };
  if (inputs.dockerfile) spec.dockerfile = inputs.dockerfile;
  if (inputs.target) spec.target = inputs.target;
  const secrets = secretEnv(inputs.secrets);
  spec.secrets = secrets.refs;
  const run = { env: secrets.env };

  if (buildx) {
    const args = buildxArgs(spec, {
      push: inputs.push,
      cache: inputs.cache,
      cacheRef: ref('buildcache'),
      cacheWritable,
      provenance: inputs.provenance,
      sbom: inputs.sbom,
      ...(builder ? { builder } : {}),
    });
    if (inputs.cache === 'registry' && repo.mutability !== 'MUTABLE') {
      logger.warning(
        `The repository ${repository} has ${repo.mutability} tags, so the build cache (tag buildcache) is only read, ` +
          'never written. Use cache: gha, or a MUTABLE repository for the cache.',
      );
    }
    await dockerOrFail(docker, `build${inputs.push ? ' and push' : ''} ${ref(shaTag)}`, args, run);
  } else {
    if (inputs.cache !== 'none') {
      logger.info(
        `This docker has no buildx plugin: cache: ${inputs.cache} needs it, so only the engine's local layer cache is used.`,
      );
    }
    await dockerOrFail(docker, `build ${ref(shaTag)}`, classicBuildArgs(spec), run);
    if (inputs.push) await dockerOrFail(docker, `push ${ref(shaTag)}`, pushArgs(ref(shaTag)));
  }
  if (!inputs.push) return { registry, digest: undefined, reused: false };

  // The registry's digest of what was pushed, not what docker printed: the deploy steps pin exactly this.
  const pushed = await findImage(client, repository, shaTag, { registryId });
  if (!pushed) {
    throw new DeployError(
      `Could not find ${ref(shaTag)} in ECR after pushing it: the push reported success but the tag is not there. ` +
        'Re-run the job; if it persists, check for a lifecycle policy that expires new images.',
    );
  }
  if (extraTags.length > 0) {
    await promoteImage(client, { repository, source: pushed.digest, tags: extraTags, logger, registryId });
  }
  logger.info(`Pushed ${registry}/${repository}@${pushed.digest}`);
  return { registry, digest: pushed.digest, reused: false };
}

async function ensureRepository(client: ECRClient, inputs: BuildPushInputs, logger: Logger): Promise<RepositoryInfo> {
  const existing = await describeRepository(client, inputs.repository, inputs.registryId);
  if (existing) return existing;
  if (!inputs.createRepository) {
    throw new DeployError(
      `The ECR repository ${inputs.repository} does not exist in ${inputs.region}. Create it ` +
        `(aws ecr create-repository --repository-name ${inputs.repository} --region ${inputs.region}), ` +
        'or set create-repository: true on this step (the role then needs ecr:CreateRepository).',
    );
  }
  logger.info(`Creating the ECR repository ${inputs.repository} (${inputs.tagMutability} tags, scan on push).`);
  return createRepository(client, {
    repository: inputs.repository,
    mutability: inputs.tagMutability,
    scanOnPush: true,
    ...(inputs.registryId ? { registryId: inputs.registryId } : {}),
  });
}

const REVISION = 'org.opencontainers.image.revision';

/**
 * The OCI labels, then the user's, which win on the same key, except the revision: it stays the commit the image
 * is tagged with (sha-<commit>), since docker/metadata-action's labels name GITHUB_SHA, a merge commit on a PR.
 */
function labels(inputs: BuildPushInputs, deps: ActionDeps): Record<string, string> {
  const out: Record<string, string> = {
    [REVISION]: inputs.commit,
    'org.opencontainers.image.created': new Date(deps.clock.now()).toISOString(),
  };
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo } = deps.env;
  if (server && repo) out['org.opencontainers.image.source'] = `${server}/${repo}`;
  const { [REVISION]: revision, ...user } = inputs.labels;
  if (revision !== undefined && revision !== inputs.commit) {
    deps.logger.warning(
      `labels: ${REVISION}=${revision} is not the commit the image is tagged with; the label stays ${inputs.commit}.`,
    );
  }
  return { ...out, ...user };
}

function writeOutputs(deps: ActionDeps, inputs: BuildPushInputs, result: BuildResult, record: DeployRecord): string {
  const { registry, digest, reused } = result;
  const image = digest
    ? `${registry}/${inputs.repository}@${digest}`
    : `${registry}/${inputs.repository}:${inputs.tags[0]}`;
  if (digest) {
    record.image = { repository: inputs.repository, registry, uri: image, digest, tags: inputs.tags, reused };
  }
  deps.setOutput('image', image);
  deps.setOutput('digest', digest ?? '');
  deps.setOutput('tags', inputs.tags.join('\n'));
  deps.setOutput('reused', String(reused));
  deps.setOutput('registry', registry);
  deps.setOutput('record', serializeRecord(record));
  return image;
}

function summary(inputs: BuildPushInputs, result: BuildResult): string {
  const what = result.reused ? 'reused (already in ECR, nothing built)' : result.digest ? 'built and pushed' : 'built';
  return [
    `### Image ${inputs.repository}: ${what}`,
    '',
    table([
      ['commit', code(inputs.commit)],
      ['digest', code(result.digest ?? 'not pushed')],
      ['tags', inputs.tags.map(code).join(' ')],
    ]),
    '',
  ].join('\n');
}
