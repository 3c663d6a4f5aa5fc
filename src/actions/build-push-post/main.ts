import type { Docker } from '../../docker/docker';
import { logOutOfRegistry } from '../build-push/registry-logout';
import type { ActionDeps } from '../runtime';

/** Replaceable parts, for tests. */
export interface BuildPushPostServices {
  docker?: Docker;
}

/** The post step of build-push (runs always): logs docker out of the ECR registry the main step logged in to. */
export async function post(deps: ActionDeps, services: BuildPushPostServices = {}): Promise<void> {
  await logOutOfRegistry(deps, services.docker);
}
