// Every version the demo claims is checked against what the running service answers at /version.
import type { Sandbox } from '../../sandbox/index';

/** A claim the running service contradicted: the demo stops with this message. */
export class ClaimMismatch extends Error {}

async function versionAt(url: string): Promise<string> {
  try {
    const response = await fetch(`${url}/version`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.text()).trim();
    return response.ok ? body : `HTTP ${response.status} ${body}`.trim();
  } catch (error) {
    return `no answer (${(error as Error).message})`;
  }
}

/** Asks the App Runner service URL a few times; every answer must be `sha`. Returns a line describing the check. */
export async function checkAppRunner(sandbox: Sandbox, serviceArn: string, sha: string, claim: string) {
  const url = sandbox.apprunner.url(serviceArn);
  const answers: string[] = [];
  for (let i = 0; i < 3; i++) answers.push(await versionAt(url));
  const wrong = answers.filter((a) => a !== sha);
  if (wrong.length > 0) {
    throw new ClaimMismatch(
      `${claim}, but ${url}/version answered ${quoteAll(wrong)} (${wrong.length} of ${answers.length} requests) instead of ${sha}`,
    );
  }
  return `${url}/version → ${sha} (${answers.length} of ${answers.length} requests)`;
}

/**
 * Asks every live instance of the group directly, then the load balancer twice per instance (round robin, so each
 * instance answers through it): every answer must be `sha`, and the group must have `instances` live instances.
 */
export async function checkGroup(sandbox: Sandbox, group: string, instances: number, sha: string, claim: string) {
  const live = sandbox.autoscaling.liveInstances(group).filter((i) => i.lifecycle === 'InService' && i.url);
  if (live.length !== instances) {
    throw new ClaimMismatch(`${claim}, but ${group} has ${live.length} instances in service instead of ${instances}`);
  }
  for (const instance of live) {
    const answer = await versionAt(instance.url!);
    if (answer !== sha) {
      throw new ClaimMismatch(`${claim}, but instance ${instance.id} answered ${quoteAll([answer])} instead of ${sha}`);
    }
  }
  const lb = sandbox.autoscaling.loadBalancerUrl(group);
  const answers: string[] = [];
  for (let i = 0; i < instances * 2; i++) answers.push(await versionAt(lb));
  const wrong = answers.filter((a) => a !== sha);
  if (wrong.length > 0) {
    throw new ClaimMismatch(
      `${claim}, but the load balancer ${lb}/version answered ${quoteAll(wrong)} (${wrong.length} of ${answers.length} requests) instead of ${sha}`,
    );
  }
  return `${live.length} instances and ${lb}/version → ${sha} (${answers.length} of ${answers.length} requests)`;
}

/**
 * Asks the ECS service's load balancer (round robin over its tasks) twice per task: every answer must be `sha`, and
 * every healthy task must run one image.
 */
export async function checkEcs(
  sandbox: Sandbox,
  cluster: string,
  service: string,
  tasks: number,
  sha: string,
  claim: string,
) {
  const running = sandbox.ecs.runningImages(cluster, service);
  if (running.length !== tasks || new Set(running).size !== 1) {
    throw new ClaimMismatch(
      `${claim}, but ${service} has ${running.length} healthy tasks running ${new Set(running).size} images instead of ${tasks} running one`,
    );
  }
  const lb = sandbox.ecs.serviceUrl(cluster, service);
  const answers: string[] = [];
  for (let i = 0; i < tasks * 2; i++) answers.push(await versionAt(lb));
  const wrong = answers.filter((a) => a !== sha);
  if (wrong.length > 0) {
    throw new ClaimMismatch(
      `${claim}, but ${lb}/version answered ${quoteAll(wrong)} (${wrong.length} of ${answers.length} requests) instead of ${sha}`,
    );
  }
  return `${running.length} tasks and ${lb}/version → ${sha} (${answers.length} of ${answers.length} requests)`;
}

/** Asks the Express service's own URL a few times; every answer must be `sha`. */
export async function checkUrl(url: string, sha: string, claim: string) {
  const answers: string[] = [];
  for (let i = 0; i < 3; i++) answers.push(await versionAt(url));
  const wrong = answers.filter((a) => a !== sha);
  if (wrong.length > 0) {
    throw new ClaimMismatch(
      `${claim}, but ${url}/version answered ${quoteAll(wrong)} (${wrong.length} of ${answers.length} requests) instead of ${sha}`,
    );
  }
  return `${url}/version → ${sha} (${answers.length} of ${answers.length} requests)`;
}

function quoteAll(answers: string[]): string {
  return [...new Set(answers)].map((a) => JSON.stringify(a)).join(', ');
}

/** The boot tag must name `digest`: instances the group launches later (scale-out, replacements) boot what it names. */
export async function checkBootTag(sandbox: Sandbox, repository: string, tag: string, digest: string, claim: string) {
  const named = (await sandbox.registry.client.manifest(repository, tag))?.digest;
  if (named !== digest) {
    throw new ClaimMismatch(
      `${claim}, but the boot tag ${repository}:${tag} names ${named ?? 'nothing'} instead of ${digest}`,
    );
  }
  return `boot tag ${repository}:${tag} → ${digest.slice(0, 19)}…`;
}
