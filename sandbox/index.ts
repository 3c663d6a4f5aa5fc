import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppRunnerEmulator } from './emulator/apprunner';
import { AutoScalingEmulator } from './emulator/autoscaling';
import { CloudWatchEmulator } from './emulator/cloudwatch';
import { EcrEmulator } from './emulator/ecr';
import { EcsEmulator } from './emulator/ecs';
import { Elbv2Emulator } from './emulator/elbv2';
import { MetricStore } from './emulator/metrics';
import { AwsEmulator } from './emulator/server';
import { type SandboxEngine, startEngine } from './engine';
import { GitHubEmulator } from './github';
import { type SandboxRegistry, startRegistry } from './registry';
import { ImageRunner } from './runner';

export interface SandboxOptions {
  /** Start the podman engine (needed to build and push images). Default true. */
  engine?: boolean;
}

/**
 * The local stand-in for AWS and GitHub that the tests and `npm run demo` run against: a real registry, a real image
 * engine and emulated control planes on loopback. See sandbox/README.md.
 */
export interface Sandbox {
  dir: string;
  registry: SandboxRegistry;
  engine: SandboxEngine | undefined;
  aws: AwsEmulator;
  ecr: EcrEmulator;
  /** App Runner control plane whose deployments really run images (through `runner`) behind a stable URL. */
  apprunner: AppRunnerEmulator;
  /** Runs registry images as processes on loopback (App Runner revisions, ASG instances); all stopped by stop(). */
  runner: ImageRunner;
  /** The GitHub REST API (deployments, statuses, commit → PRs, issue comments); bundles reach it by GITHUB_API_URL. */
  github: GitHubEmulator;
  /** EC2 Auto Scaling: groups whose instances really run the boot tag's image behind a load-balancer URL. */
  autoscaling: AutoScalingEmulator;
  /** Elastic Load Balancing v2 (target groups and target health) over the Auto Scaling groups and ECS services. */
  elbv2: Elbv2Emulator;
  /** Amazon ECS (services, task definitions, service deployments, Express Mode) whose tasks really run images. */
  ecs: EcsEmulator;
  /**
   * CloudWatch alarms computed from the load balancers' real answers (5xx counts per period); the ECS and Auto
   * Scaling deployment alarms follow their states.
   */
  cloudwatch: CloudWatchEmulator;
  /** Environment for a process (a bundle, the docker CLI) that should use this sandbox. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'adk-sandbox-'));
  const stack: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stack.reverse()) await stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    const registry = await startRegistry(join(dir, 'registry'));
    stack.push(() => registry.stop());
    const runner = new ImageRunner(registry, join(dir, 'runner'));
    stack.push(() => runner.stopAll());
    const engine = options.engine === false ? undefined : await startEngine(join(dir, 'engine'), registry);
    if (engine) stack.push(() => engine.stop());

    const aws = new AwsEmulator();
    const ecr = new EcrEmulator(registry);
    aws.register(ecr.definition());
    const apprunner = new AppRunnerEmulator(registry, runner);
    aws.register(apprunner.definition());
    stack.push(() => apprunner.stop());
    const autoscaling = new AutoScalingEmulator(runner);
    const ecs = new EcsEmulator(runner, registry.host);
    const elbv2 = new Elbv2Emulator(autoscaling, ecs);
    aws.register(autoscaling.definition());
    aws.register(elbv2.definition());
    aws.register(ecs.definition());
    const metrics = new MetricStore();
    ecs.metrics = metrics;
    autoscaling.metrics = metrics;
    const cloudwatch = new CloudWatchEmulator(metrics);
    for (const definition of cloudwatch.definitions()) aws.register(definition);
    // The platforms' own deployment alarms (ECS deployment alarms, instance refresh AlarmSpecification) watch the same
    // alarms CloudWatch computes.
    cloudwatch.onStateChange((name, state) => {
      const inAlarm = state === 'ALARM';
      ecs.setAlarmState(name, inAlarm ? 'ALARM' : 'OK');
      if (inAlarm) autoscaling.alarmsInAlarm.add(name);
      else autoscaling.alarmsInAlarm.delete(name);
    });
    cloudwatch.start();
    stack.push(async () => cloudwatch.stop());
    stack.push(() => autoscaling.stop());
    stack.push(() => ecs.stop());
    await aws.start();
    stack.push(() => aws.stop());
    const github = new GitHubEmulator();
    await github.start();
    stack.push(() => github.stop());

    return {
      dir,
      registry,
      engine,
      aws,
      ecr,
      apprunner,
      runner,
      github,
      autoscaling,
      elbv2,
      ecs,
      cloudwatch,
      env: () => ({ ...aws.clientEnv(), ...(engine?.env ?? {}), GITHUB_API_URL: github.apiUrl }),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
