import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { runBundle } from '../../sandbox/run-bundle';
import { sampleAppContext } from '../../sandbox/sample-app';
import { parseSections } from '../../src/github/comment';

// A repository with a frontend and a backend: two ECR repositories, two App Runner services, one environment. Each
// service has its own GitHub Deployment, its own row in the one comment of the environment, and its own pointer
// tags; rolling one back leaves the other alone.
let sandbox: Sandbox;
let context: string;
const services = ['frontend', 'backend'] as const;
type Name = (typeof services)[number];
const arns = {} as Record<Name, string>;
const shaA = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1';
const shaB = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2';
const runIds: Record<string, string> = { [shaA]: '1001', [shaB]: '1002' };

beforeAll(async () => {
  sandbox = await startSandbox();
  sandbox.apprunner.timing = { deployMs: 300, healthCheckMs: 1_000, pendingMs: 100 };
  sandbox.github.addPullRequest('octo-org/web', { number: 21, headSha: shaA, commits: [shaB] });
  context = await sampleAppContext();
  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  await docker(
    ['build', '-t', `${host}/frontend:bootstrap`, '--build-arg', 'VERSION=bootstrap', context],
    sandbox.env(),
  );
  for (const name of services) {
    sandbox.ecr.createRepository(name);
    if (name !== 'frontend')
      await docker(['tag', `${host}/frontend:bootstrap`, `${host}/${name}:bootstrap`], sandbox.env());
    await docker(['push', `${host}/${name}:bootstrap`], sandbox.env());
    const created = await sandbox.apprunner.createService({
      ServiceName: `${name}-staging`,
      SourceConfiguration: {
        ImageRepository: {
          ImageIdentifier: `${host}/${name}:bootstrap`,
          ImageRepositoryType: 'ECR',
          ImageConfiguration: { Port: '8080' },
        },
        AutoDeploymentsEnabled: false,
      },
      HealthCheckConfiguration: { Protocol: 'TCP' },
    });
    await sandbox.apprunner.settled(created.ServiceArn, created.OperationId);
    arns[name] = created.ServiceArn;
  }
});

afterAll(async () => {
  await sandbox?.stop();
});

const secrets = () => [
  sandbox.registry.password,
  sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '',
  sandbox.github.token,
];

function deploy(name: Name, sha: string) {
  return runBundle('pipeline', {
    inputs: {
      target: 'apprunner',
      repository: name,
      environment: 'staging',
      service: name,
      'service-arn': arns[name],
      context,
      'build-args': `VERSION=${sha}`,
      'github-token': sandbox.github.token,
      'health-timeout-minutes': '0.2',
      'health-interval-seconds': '0.5',
    },
    // One workflow run deploys both services of a commit (a matrix): they share the run id.
    env: { ...sandbox.env(), GITHUB_SHA: sha, GITHUB_EVENT_NAME: 'push', GITHUB_RUN_ID: runIds[sha]! },
    secrets: secrets(),
  });
}

async function served(name: Name): Promise<string> {
  return (await (await fetch(`${sandbox.apprunner.url(arns[name])}/version`)).text()).trim();
}

const tagDigest = async (repository: string, tag: string) =>
  (await sandbox.registry.client.manifest(repository, tag))?.digest;
const repo = () => sandbox.github.repo('octo-org/web');
const deploymentsOf = (task: string) =>
  repo().deployments.filter((d) => d.environment === 'staging' && d.task === task);
const stateOf = (id: number) => repo().latestStatus(id)?.state;

describe('two services in one environment', () => {
  it('deployed at once from one commit: two GitHub Deployments, one comment with two rows, two pointer sets', async () => {
    const runs = await Promise.all(services.map((name) => deploy(name, shaA)));
    for (const run of runs) {
      expect(run.errors).toEqual([]);
      expect(run.outputs.outcome).toBe('succeeded');
    }
    expect(await served('frontend')).toBe(shaA);
    expect(await served('backend')).toBe(shaA);

    for (const name of services) {
      const [deployment, ...more] = deploymentsOf(`deploy:${name}`);
      expect(more).toEqual([]);
      expect(deployment?.sha).toBe(shaA);
      expect(stateOf(deployment!.id)).toBe('success');
    }
    const comments = repo().comments.filter((c) => c.issue === 21);
    expect(comments).toHaveLength(1);
    const body = comments[0]!.body;
    expect(parseSections(body).map((s) => s.service)).toEqual(['backend', 'frontend']);
    expect(body).toContain('### Deploy staging: 2 services');
    expect(body.match(/^\| `(frontend|backend)` \| ✅ live \|/gm)).toHaveLength(2);

    expect(await tagDigest('frontend', 'deployed-staging.frontend')).toBe(runs[0]!.outputs.digest);
    expect(await tagDigest('backend', 'deployed-staging.backend')).toBe(runs[1]!.outputs.digest);
    // The default service's names stay free for a service deployed without `service`.
    expect(await tagDigest('frontend', 'deployed-staging')).toBeUndefined();
  });

  it("a rollback of one service leaves the other's version, deployment and pointers alone", async () => {
    for (const name of services) {
      const run = await deploy(name, shaB);
      expect(run.outputs.outcome).toBe('succeeded');
    }
    const frontendB = deploymentsOf('deploy:frontend').find((d) => d.sha === shaB)!;
    const frontendPointer = await tagDigest('frontend', 'deployed-staging.frontend');
    // The backend's second deploy retired its first deployment only.
    expect(stateOf(deploymentsOf('deploy:backend').find((d) => d.sha === shaA)!.id)).toBe('inactive');
    expect(stateOf(frontendB.id)).toBe('success');

    const rollback = await runBundle('rollback', {
      inputs: {
        environment: 'staging',
        service: 'backend',
        target: 'apprunner',
        'service-arn': arns.backend,
        repository: 'backend',
        region: 'us-east-1',
        'github-token': sandbox.github.token,
        'health-interval-seconds': '0.3',
      },
      // A manual rollback is a run of its own.
      env: { ...sandbox.env(), GITHUB_RUN_ID: '1003' },
      secrets: secrets(),
    });
    expect(rollback.errors).toEqual([]);
    expect(rollback.outputs.sha).toBe(shaA);
    expect(rollback.log).toMatch(/GitHub deployment \d+ of staging/);
    expect(await served('backend')).toBe(shaA);
    expect(await served('frontend')).toBe(shaB);

    const backendNow = deploymentsOf('deploy:backend').at(-1)!;
    expect(backendNow.sha).toBe(shaA);
    expect(stateOf(backendNow.id)).toBe('success');
    expect(stateOf(frontendB.id)).toBe('success');
    expect(await tagDigest('frontend', 'deployed-staging.frontend')).toBe(frontendPointer);
    const backendA = (await sandbox.registry.client.manifest('backend', `sha-${shaA}`))?.digest;
    expect(await tagDigest('backend', 'deployed-staging.backend')).toBe(backendA);
  });
});
