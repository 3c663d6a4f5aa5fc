import { ConfigurationError, DeployError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { builderDriver, classicBuildFlags, createBuilderArgs, type Docker, lastErrorLine } from '../../docker/docker';
import type { BuildPushInputs } from './inputs';

const NEEDS_BUILDX = '(add docker/setup-buildx-action before this step)';

/**
 * Refuses, before any AWS call, what this docker cannot build: several platforms or attestations without buildx, and
 * secrets, ssh or annotations when the plain `build` has no such flag (the docker CLI's legacy builder; podman's
 * build has them).
 */
export async function checkEngine(inputs: BuildPushInputs, docker: Docker, buildx: Promise<boolean>): Promise<void> {
  const wanted: { input: string; given: string; flag: string }[] = [];
  if (inputs.secrets.length > 0)
    wanted.push({ input: 'secrets', given: inputs.secrets.map((s) => `${s.id}=***`).join('\n'), flag: '--secret' });
  if (inputs.secretFiles.length > 0)
    wanted.push({
      input: 'secret-files',
      given: inputs.secretFiles.map((s) => `${s.id}=${s.path}`).join('\n'),
      flag: '--secret',
    });
  if (inputs.ssh.length > 0) wanted.push({ input: 'ssh', given: inputs.ssh.join('\n'), flag: '--ssh' });
  if (Object.keys(inputs.annotations).length > 0)
    wanted.push({ input: 'annotations', given: Object.keys(inputs.annotations).join(', '), flag: '--annotation' });
  const buildxOnly = [
    ...(inputs.platforms.length > 1
      ? [{ input: 'platforms', given: inputs.platforms.join(','), why: 'a single platform' }]
      : []),
    ...(inputs.provenance ? [{ input: 'provenance', given: 'true', why: '"false"' }] : []),
    ...(inputs.sbom ? [{ input: 'sbom', given: 'true', why: '"false"' }] : []),
  ];
  if (wanted.length === 0 && buildxOnly.length === 0) return;
  if (await buildx) return;
  const first = buildxOnly[0];
  if (first) {
    throw new ConfigurationError(
      first.input,
      first.given,
      `${first.why}: this docker has no buildx plugin, which ${first.input === 'platforms' ? 'multi-platform builds' : 'attestations'} need ${NEEDS_BUILDX}`,
    );
  }
  const flags = await classicBuildFlags(docker);
  for (const { input, given, flag } of wanted) {
    if (!flags.has(flag)) {
      throw new ConfigurationError(
        input,
        given,
        `a docker that can pass it: this docker has no buildx plugin and its plain build takes no ${flag} ` +
          `${NEEDS_BUILDX}, or use an engine whose build takes ${flag} such as podman (docker: podman)`,
      );
    }
  }
}

/** The builder a cache export (or attestations, or several platforms) makes for when the current one cannot. */
export const BUILDER_NAME = 'aws-deploy-kit';

/**
 * The buildx builder to build with: undefined for the current one; when the current one uses the `docker` driver,
 * which cannot do `needs` (export a cache, attach attestations, build several platforms), a docker-container builder
 * made (and started) now, so that it fails here and not after the build, in the push.
 */
export async function builderFor(
  docker: Docker,
  needs: string | undefined,
  logger: Logger,
): Promise<string | undefined> {
  if (!needs || (await builderDriver(docker)) !== 'docker') return undefined;
  if ((await builderDriver(docker, BUILDER_NAME)) === 'docker-container') return BUILDER_NAME;
  logger.info(
    `The current buildx builder uses the docker driver, which cannot ${needs}: creating the docker-container ` +
      `builder ${BUILDER_NAME} for this build.`,
  );
  const result = await docker(createBuilderArgs(BUILDER_NAME));
  if (result.exitCode !== 0) {
    throw new DeployError(
      `Could not create a docker-container buildx builder to ${needs} (the current builder uses the docker driver, ` +
        `which cannot): ${lastErrorLine(result)}. Add docker/setup-buildx-action before this step, or set cache: none ` +
        '(and leave provenance, sbom and several platforms off).',
    );
  }
  return BUILDER_NAME;
}

/** What the build asks of the builder that the `docker` driver cannot do, in words; undefined: nothing. */
export function driverNeeds(inputs: BuildPushInputs, exportsCache: boolean): string | undefined {
  const needs = [
    ...(exportsCache ? [`export the build cache (cache: ${inputs.cache})`] : []),
    ...(inputs.provenance || inputs.sbom ? ['attach attestations (provenance, sbom)'] : []),
    ...(inputs.platforms.length > 1 ? ['build several platforms at once'] : []),
  ];
  return needs.length > 0 ? needs.join(', ') : undefined;
}
