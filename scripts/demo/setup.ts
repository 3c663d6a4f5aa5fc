// What exists before the first deploy: the ECR repository, an App Runner service, an Auto Scaling group, an ECS
// service and an ECS Express service (each created once from a bootstrap image, as a team would outside the pipeline),
// and the pull request the commits are on.
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { docker } from '../../sandbox/docker';
import type { Sandbox } from '../../sandbox/index';
import { sampleAppContext } from '../../sandbox/sample-app';
import { detail, heading, type Printer } from './print';

export const REPOSITORY = 'web';
export const GITHUB_REPOSITORY = 'octo-org/web';
export const PULL_REQUEST = 12;
/** App Runner serves the `preview` environment; the group is `staging` and its instances boot web:staging. */
export const APPRUNNER_ENVIRONMENT = 'preview';
export const ASG_ENVIRONMENT = 'staging';
export const BOOT_TAG = 'staging';
export const GROUP = 'web-staging';
export const INSTANCES = 3;
/** The ECS service `web` (3 tasks behind a load balancer) is `production`; the Express service is `express`. */
export const ECS_ENVIRONMENT = 'production';
export const ECS_CLUSTER = 'prod';
export const ECS_SERVICE = 'web';
export const TASKS = 3;
export const EXPRESS_ENVIRONMENT = 'express';
export const EXPRESS_SERVICE = 'web-express';

export interface DemoWorld {
  context: string;
  serviceArn: string;
  serviceUrl: string;
  group: string;
  loadBalancerUrl: string;
  /** The ECS service's load-balancer URL. */
  ecsUrl: string;
  expressServiceArn: string;
  expressUrl: string;
}

/** Small timings so the whole story fits in well under three minutes; the waits are the real ones, just shorter. */
export function speedUp(sandbox: Sandbox): void {
  sandbox.apprunner.timing = { deployMs: 300, healthCheckMs: 1_000, pendingMs: 100 };
  // One "second" of instance warmup lasts 10 ms; an instance failing /health is replaced after 2 s of grace.
  sandbox.autoscaling.timing = {
    bootMs: 100,
    healthCheckMs: 150,
    graceMs: 2_000,
    secondMs: 10,
    waitMs: 2_000,
    pendingMs: 100,
  };
  // ECS: tasks start in 150 ms, a task failing /health is stopped after 2 s; a "minute" of bake lasts 200 ms.
  sandbox.ecs.timing = { ...sandbox.ecs.timing, taskStartMs: 150, healthCheckMs: 100, unhealthyAfterMs: 2_000 };
  // CloudWatch: a 60-second alarm period lasts 1.2 s.
  sandbox.cloudwatch.timing.secondMs = 20;
}

export async function setUp(sandbox: Sandbox, out: Printer, commits: string[]): Promise<DemoWorld> {
  heading(out, `Creating the ECR repository ${REPOSITORY} (ECR CreateRepository, emulated)`);
  const aws = sandbox.aws.clientEnv();
  const ecr = new ECRClient({
    region: 'us-east-1',
    endpoint: sandbox.aws.endpoint,
    credentials: { accessKeyId: aws.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: aws.AWS_SECRET_ACCESS_KEY ?? '' },
  });
  try {
    const created = await ecr.send(new CreateRepositoryCommand({ repositoryName: REPOSITORY }));
    detail(out, `${created.repository?.repositoryUri}`);
  } finally {
    ecr.destroy();
  }

  heading(out, 'Building a bootstrap image, the one the service and the group are first created with');
  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  const context = await sampleAppContext();
  const bootstrap = `${host}/${REPOSITORY}:bootstrap`;
  const boot = `${host}/${REPOSITORY}:${BOOT_TAG}`;
  await docker(['build', '-t', bootstrap, '-t', boot, '--build-arg', 'VERSION=bootstrap', context], sandbox.env());
  await docker(['push', bootstrap], sandbox.env());
  await docker(['push', boot], sandbox.env());
  detail(out, `${bootstrap} (also tagged ${BOOT_TAG}, the group's boot tag)`);

  heading(out, 'Creating the App Runner service web-preview (its own health check is TCP: only ours sees /health)');
  const service = await sandbox.apprunner.createService({
    ServiceName: 'web-preview',
    SourceConfiguration: {
      ImageRepository: { ImageIdentifier: bootstrap, ImageRepositoryType: 'ECR', ImageConfiguration: { Port: '8080' } },
      AutoDeploymentsEnabled: false,
    },
    HealthCheckConfiguration: { Protocol: 'TCP' },
  });
  await sandbox.apprunner.settled(service.ServiceArn, service.OperationId);
  const serviceUrl = sandbox.apprunner.url(service.ServiceArn);
  detail(out, `${service.ServiceArn}\nserves ${serviceUrl}`);

  heading(out, `Creating the Auto Scaling group ${GROUP}: ${INSTANCES} instances booting ${REPOSITORY}:${BOOT_TAG}`);
  await sandbox.autoscaling.createGroup({
    name: GROUP,
    repository: REPOSITORY,
    bootTag: BOOT_TAG,
    instances: INSTANCES,
    // As the docs recommend: ELB health checks, so the refresh itself sees the application's health.
    healthCheckType: 'ELB',
  });
  const loadBalancerUrl = sandbox.autoscaling.loadBalancerUrl(GROUP);
  const instances = sandbox.autoscaling.liveInstances(GROUP);
  detail(out, `load balancer ${loadBalancerUrl}`);
  for (const instance of instances) detail(out, `instance ${instance.id} at ${instance.url}`);

  heading(
    out,
    `Creating the ECS service ${ECS_SERVICE} in cluster ${ECS_CLUSTER}: ${TASKS} tasks behind a load balancer`,
  );
  const ecs = await sandbox.ecs.createService({
    cluster: ECS_CLUSTER,
    name: ECS_SERVICE,
    image: bootstrap,
    containerName: 'web',
    desiredCount: TASKS,
    healthCheckPath: '/health',
    // As AWS recommends: the circuit breaker stops (and rolls back) a revision whose tasks do not get healthy.
    circuitBreaker: { enable: true, rollback: true },
  });
  detail(out, `${ecs.serviceArn}\nload balancer ${ecs.url}`);

  heading(out, `Creating the ECS Express Mode service ${EXPRESS_SERVICE} (it gets its own URL)`);
  const express = await sandbox.ecs.createExpressService({
    cluster: ECS_CLUSTER,
    name: EXPRESS_SERVICE,
    image: bootstrap,
    healthCheckPath: '/health',
  });
  detail(out, `${express.serviceArn}\nserves ${express.url}`);

  heading(
    out,
    `Opening pull request #${PULL_REQUEST} in ${GITHUB_REPOSITORY} (GitHub emulator) with the three commits`,
  );
  sandbox.github.addPullRequest(GITHUB_REPOSITORY, {
    number: PULL_REQUEST,
    title: 'Demo: v1, v2, and a broken v3',
    headSha: commits.at(-1)!,
    commits,
  });
  detail(out, `commits ${commits.map((c) => c.slice(0, 7)).join(', ')}: each deploy keeps a sticky comment there`);

  return {
    context,
    serviceArn: service.ServiceArn,
    serviceUrl,
    group: GROUP,
    loadBalancerUrl,
    ecsUrl: ecs.url,
    expressServiceArn: express.serviceArn,
    expressUrl: express.url,
  };
}
