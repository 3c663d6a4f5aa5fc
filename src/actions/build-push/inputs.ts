import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigurationError } from '../../core/errors';
import { type InputReader, inputParser } from '../../core/input';
import { resolveService, type Service } from '../../core/service';
import { commitContextFromEnv, commitOf, imageTags } from '../../core/tags';
import { validateCommitSha, validateRegion, validateRepositoryName } from '../../core/validate';
import type { CacheMode } from '../../docker/docker';
import { parseMaskAccountId } from '../account-mask';
import { type BuildFeatures, parseBuildFeatures } from './build-features';

export interface BuildPushInputs extends BuildFeatures {
  repository: string;
  region: string;
  context: string;
  dockerfile?: string;
  buildArgs: Record<string, string>;
  target?: string;
  platforms: string[];
  commit: string;
  /** The service the image is for (`service`, default the repository's name): the record it starts names it. */
  service: Service;
  /** `sha-<commit>` first, then the extra tags. */
  tags: string[];
  skipIfExists: boolean;
  cache: CacheMode;
  createRepository: boolean;
  tagMutability: 'MUTABLE' | 'IMMUTABLE';
  push: boolean;
  /** The docker CLI: a command name looked up on PATH, or a path. */
  docker: string;
  /** mask-aws-account-id: the account ID of the registry is masked in the log. */
  maskAwsAccountId: boolean;
}

const platformPattern = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
const buildArgName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const targetPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Parses and checks every input before anything touches AWS or docker. */
export function parseBuildPushInputs(read: InputReader, env: NodeJS.ProcessEnv, cwd = process.cwd()): BuildPushInputs {
  const p = inputParser(read);
  const repository = validateRepositoryName('repository', p.required('repository', 'an ECR repository name'));
  const region = validateRegion('region', p.optional('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION);

  const explicitCommit = p.optional('commit');
  const commit = explicitCommit ? validateCommitSha('commit', explicitCommit) : commitOf(commitContextFromEnv(env));
  const tags = imageTags(commit, p.list('tags'));

  const context = p.optional('context') ?? '.';
  if (!isDirectory(resolve(cwd, context))) {
    throw new ConfigurationError('context', context, `a directory that exists (relative to ${cwd})`);
  }
  const dockerfile = p.optional('dockerfile');
  if (dockerfile !== undefined && !existsSync(isAbsolute(dockerfile) ? dockerfile : resolve(cwd, dockerfile))) {
    throw new ConfigurationError('dockerfile', dockerfile, `a Dockerfile path that exists (relative to ${cwd})`);
  }

  const buildArgs = p.keyValues('build-args');
  for (const name of Object.keys(buildArgs)) {
    if (!buildArgName.test(name)) {
      throw new ConfigurationError('build-args', name, 'KEY=VALUE lines whose KEY is letters, digits and _');
    }
  }

  const target = p.optional('target');
  if (target !== undefined && !targetPattern.test(target)) {
    throw new ConfigurationError('target', target, 'the name of a build stage (letters, digits, _ . -)');
  }
  const platforms = p.list('platforms');
  for (const platform of platforms) {
    if (!platformPattern.test(platform)) {
      throw new ConfigurationError('platforms', platform, 'platforms such as "linux/amd64" or "linux/arm64/v8"');
    }
  }

  const docker = p.optional('docker') ?? 'docker';
  const inputs: BuildPushInputs = {
    repository,
    region,
    context,
    buildArgs,
    platforms,
    commit,
    service: resolveService('service', p.optional('service'), env),
    tags,
    skipIfExists: p.boolean('skip-if-exists', true),
    cache: p.oneOf('cache', ['registry', 'gha', 'none'] as const, 'registry'),
    createRepository: p.boolean('create-repository', false),
    tagMutability: p.oneOf('tag-mutability', ['MUTABLE', 'IMMUTABLE'] as const, 'MUTABLE'),
    push: p.boolean('push', true),
    docker,
    ...parseBuildFeatures(p, read, env, cwd),
    maskAwsAccountId: parseMaskAccountId(p),
  };
  if (dockerfile !== undefined) inputs.dockerfile = dockerfile;
  if (target !== undefined) inputs.target = target;
  return inputs;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
