import { type Docker, execDocker, lastErrorLine, logoutArgs } from '../../docker/docker';
import { maskInPostStep } from '../account-mask';
import type { ActionDeps } from '../runtime';

/** What the step that ran `docker login` saves for its post step: only that registry is logged out, with that CLI. */
export const LOGIN_STATE = { registry: 'ecr-registry', docker: 'ecr-registry-docker' } as const;

export function rememberLogin(deps: Pick<ActionDeps, 'saveState'>, registry: string, executable: string): void {
  deps.saveState(LOGIN_STATE.registry, registry);
  deps.saveState(LOGIN_STATE.docker, executable);
}

/**
 * The post step's clean-up: `docker logout` of the ECR registry this job logged in to, so its token (valid 12 hours)
 * does not stay in the docker config of a self-hosted or shared runner for the next job. Nothing when this job did
 * not log in; a warning, never a failure, when docker cannot log out: the deploy's result stands either way.
 */
export async function logOutOfRegistry(deps: ActionDeps, docker?: Docker): Promise<void> {
  const registry = deps.getState(LOGIN_STATE.registry);
  if (!registry) {
    deps.logger.debug(
      'No docker logout: this job did not log in to ECR (the image was reused, or the step ended before the login).',
    );
    return;
  }
  maskInPostStep(deps, registry);
  const executable = deps.getState(LOGIN_STATE.docker) || 'docker';
  const advice =
    `its ECR login may stay in this runner's docker config for up to 12 hours; run \`docker logout ${registry}\` ` +
    'on the runner (a self-hosted one keeps it for later jobs).';
  try {
    const result = await (docker ?? execDocker(executable, deps.env))(logoutArgs(registry));
    if (result.exitCode === 0) {
      deps.logger.info(`Logged out of ${registry}: the docker config no longer holds this job's ECR login.`);
    } else {
      deps.logger.warning(
        `Could not log out of ${registry}: docker logout failed: ${lastErrorLine(result)}; ${advice}`,
      );
    }
  } catch (error) {
    deps.logger.warning(`Could not log out of ${registry}: ${(error as Error).message}; ${advice}`);
  }
}
