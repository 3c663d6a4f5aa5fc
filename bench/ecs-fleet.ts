// A fleet deploy: 20 ECS services deployed at once (20 deploy-ecs bundles in parallel, as 20 jobs of a matrix would)
// while the sandbox throttles the account's ECS API to 5 requests a second. Target: all 20 succeed. Prints the total
// ECS calls, how many were throttled, and the slowest run's delay: from its service deployment's end (as ECS recorded
// it) to the step's exit.
import { DescribeServiceDeploymentsCommand, ECSClient } from '@aws-sdk/client-ecs';
import { docker } from '../sandbox/docker';
import { startSandbox } from '../sandbox/index';
import { runBundle } from '../sandbox/run-bundle';
import { sampleAppContext } from '../sandbox/sample-app';
import { type Bench, type BenchReport, median } from './lib';

const SERVICES = 20;
const PER_SECOND = 5;

interface FleetRun {
  service: string;
  outcome: string;
  exitCode: number;
  wallMs: number;
  endedAt: number;
  arn?: string;
  /** Step exit minus the end of its service deployment. */
  delayMs?: number;
  error?: string;
}

export const bench: Bench = {
  name: 'ecs-fleet',
  description: `${SERVICES} ECS deploys at once against an account throttled to ${PER_SECOND} ECS requests a second`,
  async run(): Promise<BenchReport> {
    const sandbox = await startSandbox();
    const ecs = new ECSClient({ ...sandboxClientConfig(sandbox.aws.clientEnv()) });
    try {
      sandbox.ecr.createRepository('app');
      const { host, user, password } = sandbox.registry;
      await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
      const context = await sampleAppContext();
      const digests: Record<string, string> = {};
      for (const version of ['v1', 'v2']) {
        await docker(
          ['build', '--no-cache', '-t', `${host}/app:${version}`, '--build-arg', `VERSION=${version}`, context],
          sandbox.env(),
        );
        await docker(['push', `${host}/app:${version}`], sandbox.env());
        digests[version] = (await sandbox.registry.client.manifest('app', version))!.digest;
      }
      const services = [];
      for (let i = 1; i <= SERVICES; i++) {
        services.push(
          await sandbox.ecs.createService({
            cluster: 'fleet',
            name: `svc-${i}`,
            image: `${host}/app@${digests.v1}`,
            containerName: 'web',
            desiredCount: 1,
            circuitBreaker: { enable: true, rollback: true },
          }),
        );
      }
      sandbox.aws.faults.rateLimit({ service: 'ecs', perSecond: PER_SECOND });
      const callsBefore = sandbox.aws.calls.length;
      const started = Date.now();
      const runs: FleetRun[] = await Promise.all(
        services.map(async (created, index): Promise<FleetRun> => {
          const name = `svc-${index + 1}`;
          const t0 = Date.now();
          const run = await runBundle('deploy-ecs', {
            inputs: {
              cluster: 'fleet',
              'ecs-service': name,
              image: `${host}/app@${digests.v2}`,
              region: 'us-east-1',
              'health-url': `${created.url}/health`,
              'health-interval-seconds': '0.5',
              'health-consecutive-successes': '2',
              'timeout-minutes': '10',
            },
            env: sandbox.env(),
          });
          const ended = Date.now();
          return {
            service: name,
            outcome: run.outputs.outcome ?? `exit ${run.exitCode}`,
            exitCode: run.exitCode,
            wallMs: ended - t0,
            endedAt: ended,
            ...(run.outputs['service-deployment-arn'] ? { arn: run.outputs['service-deployment-arn'] } : {}),
            ...(run.errors[0] ? { error: run.errors[0] } : {}),
          };
        }),
      );
      const totalMs = Date.now() - started;
      const calls = sandbox.aws.calls.slice(callsBefore).filter((c) => c.service === 'ecs');
      // The bench's own reads come after the fleet, unthrottled and uncounted: they measure, they are not measured.
      sandbox.aws.faults.clear();
      for (const run of runs) {
        if (!run.arn) continue;
        const described = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [run.arn] }));
        const finishedAt = described.serviceDeployments?.[0]?.finishedAt;
        if (finishedAt) run.delayMs = run.endedAt - finishedAt.getTime();
      }
      const throttled = calls.filter((c) => c.response?.body.includes('ThrottlingException')).length;
      const succeeded = runs.filter((r) => r.outcome === 'succeeded').length;
      const delays = runs.map((r) => r.delayMs).filter((d): d is number => d !== undefined);
      const walls = runs.map((r) => r.wallMs);
      return {
        title: `${SERVICES} deploy-ecs runs at once, ECS throttled to ${PER_SECOND} requests/s`,
        columns: [
          'services',
          'succeeded',
          'ECS calls',
          'throttled',
          'wall median (s)',
          'wall max (s)',
          'slowest delay (s)',
        ],
        rows: [
          [
            SERVICES,
            succeeded,
            calls.length,
            throttled,
            (median(walls) / 1000).toFixed(1),
            (Math.max(...walls) / 1000).toFixed(1),
            delays.length ? (Math.max(...delays) / 1000).toFixed(1) : '-',
          ],
        ],
        notes: [
          `target: all ${SERVICES} succeed: ${succeeded === SERVICES ? 'met' : 'NOT MET'}; whole fleet ${(totalMs / 1000).toFixed(1)} s`,
          'delay: from the end of a service deployment (ECS finishedAt) to its step exiting (verification included)',
          'each step retries throttled calls with the SDK adaptive retry mode (a client-side rate limiter) and waits longer between looks',
          ...runs.filter((r) => r.outcome !== 'succeeded').map((r) => `${r.service}: ${r.outcome}: ${r.error ?? ''}`),
        ],
        data: { runs, calls: calls.length, throttled, totalMs },
      };
    } finally {
      ecs.destroy();
      await sandbox.stop();
    }
  },
};

function sandboxClientConfig(env: Record<string, string>) {
  return {
    region: env.AWS_REGION ?? 'us-east-1',
    endpoint: env.AWS_ENDPOINT_URL_ECS ?? '',
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '' },
  };
}
