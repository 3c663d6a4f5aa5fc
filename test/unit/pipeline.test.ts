import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppRunnerClient,
  DescribeServiceCommand,
  ListOperationsCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-apprunner';
import { DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { run } from '../../src/actions/pipeline/main';
import type { ActionDeps } from '../../src/actions/runtime';
import { systemClock } from '../../src/core/clock';
import { ConfigurationError, DeployError } from '../../src/core/errors';
import { captureLogger } from '../../src/core/logger';
import type { DeployRecord } from '../../src/core/record';
import type { Docker } from '../../src/docker/docker';

// The all-in-one action with every AWS call mocked and the service's health served on loopback: the flow between
// the phases (reuse → deploy → verify → roll back → report), not the platform details the target tests cover.

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const OLD_SHA = '0'.repeat(40);
const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const NEW = `${REGISTRY}/web@sha256:${'b'.repeat(64)}`;
const OLD = `${REGISTRY}/web@sha256:${'a'.repeat(64)}`;
const ARN = 'arn:aws:apprunner:us-east-1:123456789012:service/web/0123456789abcdef0123456789abcdef';

const ecr = mockClient(ECRClient);
const apprunner = mockClient(AppRunnerClient);

const workspace = mkdtempSync(join(tmpdir(), 'adk-pipeline-'));
const bin = join(workspace, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'docker'), '#!/bin/sh\nexit 1\n');
chmodSync(join(bin, 'docker'), 0o755);

/** What the fake service serves: the image UpdateService last named, healthy unless it is `unhealthy`. */
let deployed = OLD;
let unhealthy: string | undefined;
let onProbe: (() => void) | undefined;
let server: Server;
let serviceHost: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    onProbe?.();
    if (req.url === '/version') res.end(deployed === NEW ? SHA : OLD_SHA);
    else {
      res.statusCode = deployed === unhealthy ? 503 : 200;
      res.end('ok');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serviceHost = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

beforeEach(() => {
  deployed = OLD;
  unhealthy = undefined;
  onProbe = undefined;
  ecr.reset();
  apprunner.reset();
  ecr.on(DescribeRepositoriesCommand).resolves({
    repositories: [{ repositoryName: 'web', repositoryUri: `${REGISTRY}/web`, imageTagMutability: 'MUTABLE' }],
  });
  // The commit's image is in ECR already: nothing is built.
  ecr
    .on(DescribeImagesCommand)
    .resolves({ imageDetails: [{ imageDigest: NEW.split('@')[1], imageTags: [`sha-${SHA}`] }] });
  let operations = 0;
  apprunner.on(DescribeServiceCommand).callsFake(() => ({
    Service: {
      ServiceArn: ARN,
      ServiceName: 'web',
      ServiceId: '0123456789abcdef0123456789abcdef',
      ServiceUrl: serviceHost,
      Status: 'RUNNING',
      SourceConfiguration: {
        ImageRepository: {
          ImageIdentifier: deployed,
          ImageRepositoryType: 'ECR',
          ImageConfiguration: { Port: '8080' },
        },
        AutoDeploymentsEnabled: false,
      },
    },
  }));
  apprunner.on(UpdateServiceCommand).callsFake((input) => {
    deployed = input.SourceConfiguration.ImageRepository.ImageIdentifier;
    operations++;
    return { OperationId: `op-${operations}`, Service: { ServiceArn: ARN } };
  });
  apprunner.on(ListOperationsCommand).callsFake(() => ({
    OperationSummaryList: Array.from({ length: operations }, (_, i) => ({
      Id: `op-${operations - i}`,
      Type: 'UPDATE_SERVICE',
      Status: 'SUCCEEDED',
    })).reverse(),
  }));
});

interface Run {
  outputs: Record<string, string>;
  summaries: string[];
  logger: ReturnType<typeof captureLogger>;
  error?: unknown;
  record: DeployRecord;
}

async function pipeline(inputs: Record<string, string> = {}, controller = new AbortController()): Promise<Run> {
  const outputs: Record<string, string> = {};
  const summaries: string[] = [];
  const logger = captureLogger();
  const values: Record<string, string> = {
    target: 'apprunner',
    repository: 'web',
    environment: 'staging',
    'service-arn': ARN,
    'health-interval-seconds': '0.1',
    'health-timeout-minutes': '0.1',
    'health-consecutive-successes': '2',
    ...inputs,
  };
  const deps: ActionDeps = {
    getInput: (name) => values[name] ?? '',
    setOutput: (name, value) => {
      outputs[name] = value;
    },
    setSecret: () => undefined,
    logger,
    env: { PATH: bin, GITHUB_SHA: SHA, AWS_REGION: 'us-east-1' },
    clock: systemClock,
    signal: controller.signal,
    writeSummary: async (markdown) => {
      summaries.push(markdown);
    },
    saveState: () => undefined,
    getState: () => '',
  };
  const docker: Docker = async () => ({ exitCode: 0, stdout: '', stderr: '' });
  let error: unknown;
  try {
    await run(deps, {
      ecr: new ECRClient({ region: 'us-east-1' }),
      clients: { apprunner: new AppRunnerClient({ region: 'us-east-1' }) },
      docker,
      cwd: workspace,
      pollDelays: { minDelayMs: 1, maxDelayMs: 5 },
    });
  } catch (thrown) {
    error = thrown;
  }
  return { outputs, summaries, logger, error, record: JSON.parse(outputs.record ?? '{}') as DeployRecord };
}

function updates(): string[] {
  return apprunner
    .commandCalls(UpdateServiceCommand)
    .map((call) => call.args[0].input.SourceConfiguration?.ImageRepository?.ImageIdentifier ?? '');
}

describe('the all-in-one action', () => {
  it('reuses the commit image, deploys it by digest, verifies it with the real attempt count and reports', async () => {
    const result = await pipeline();
    expect(result.error).toBeUndefined();
    expect(result.outputs).toMatchObject({ outcome: 'succeeded', image: NEW, 'previous-image': OLD });
    expect(updates()).toEqual([NEW]);
    expect(result.record.phases.map((p) => [p.name, p.status])).toEqual([
      ['build', 'succeeded'],
      ['deploy', 'succeeded'],
      ['verify', 'succeeded'],
      ['promote', expect.any(String)],
    ]);
    expect(result.record.health).toMatchObject({ healthy: true, attempts: 4, lastStatus: 200 });
    expect(result.record.health?.detail).toBe(`http://${serviceHost}/version serves ${SHA}`);
    // Each phase is a log group; the report wrote the job summary.
    expect(result.logger.lines.filter((l) => l.startsWith('group: '))).toEqual([
      'group: build and push web',
      `group: deploy to App Runner service ${ARN}`,
      'group: verify the new version',
      'group: report',
    ]);
    expect(result.summaries.join('\n')).toContain('live');
  });

  it('rolls back to the previous image when the new version fails its check, keeping the failed check in the record', async () => {
    unhealthy = NEW;
    const result = await pipeline();
    expect(result.error).toBeInstanceOf(DeployError);
    expect((result.error as Error).message).toMatch(/did not succeed \(rolled back to /);
    expect(result.outputs.outcome).toBe('rolled-back');
    expect(updates()).toEqual([NEW, OLD]);
    expect(deployed).toBe(OLD);
    // The new version's failed check, with the probes it really made (not 0).
    expect(result.record.health?.healthy).toBe(false);
    expect(result.record.health?.attempts).toBeGreaterThan(1);
    expect(result.record.phases.map((p) => p.name)).toEqual(['build', 'deploy', 'verify', 'rollback']);
  });

  it('cancelled during verification: records cancelled, starts no rollback, still reports and says how to finish', async () => {
    const controller = new AbortController();
    onProbe = () => controller.abort(new DeployError('The job was cancelled (SIGINT).'));
    const result = await pipeline({}, controller);
    expect(result.outputs.outcome).toBe('cancelled');
    expect(updates()).toEqual([NEW]);
    expect(result.record.cancellation?.runsNow.join(' ')).toContain(`runs ${NEW}`);
    expect(result.record.cancellation?.finish).toBe(
      `npx aws-deploy-kit rollback --environment staging --target apprunner --service-arn ${ARN} --repository web --region us-east-1`,
    );
    expect(result.summaries.join('\n')).toContain('cancelled');
    expect(result.logger.lines.join('\n')).not.toContain('Rolling back');
  });

  it('checks every input before any AWS call', async () => {
    const result = await pipeline({ 'expected-status': '700' });
    expect(result.error).toBeInstanceOf(ConfigurationError);
    expect(ecr.calls()).toHaveLength(0);
    expect(apprunner.calls()).toHaveLength(0);
  });
});
