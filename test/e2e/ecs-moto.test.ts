import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { EcsEmulator } from '../../sandbox/emulator/ecs';
import { AwsEmulator } from '../../sandbox/emulator/server';
import { FakeLauncher } from '../../sandbox/fake-launcher';
import { type Moto, startMoto } from '../../sandbox/moto';

// A second opinion on the ECS calls the toolkit makes (RegisterTaskDefinition, DescribeTaskDefinition,
// UpdateService, DescribeServices): the same calls against moto 5.2.1 and our emulator, with the real client-ecs.
// Where they agree the assertion runs on both; where moto differs from AWS's documentation (AWS wins) the moto
// answer is pinned, so an upgrade that changes it is noticed (sandbox/README.md lists them). Without moto this file
// fails, saying how to install it.

jest.setTimeout(120_000);

let moto: Moto;
let aws: AwsEmulator;
let emulator: EcsEmulator;
let clients: { name: 'moto' | 'emulator'; ecs: ECSClient }[];

beforeAll(async () => {
  moto = await startMoto();
  aws = new AwsEmulator();
  const launcher = new FakeLauncher();
  launcher.push('app', 'v1', { version: 'v1', healthy: true });
  emulator = new EcsEmulator(launcher, undefined);
  emulator.timing = { ...emulator.timing, taskStartMs: 10, healthCheckMs: 20, pendingMs: 10, tickMs: 10 };
  aws.register(emulator.definition());
  await aws.start();
  const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' };
  clients = [
    { name: 'moto', ecs: new ECSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }) },
    {
      name: 'emulator',
      ecs: new ECSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
    },
  ];
  for (const { ecs } of clients) await ecs.send(new CreateClusterCommand({ clusterName: 'prod' }));
}, 60_000);

afterAll(async () => {
  for (const { ecs } of clients ?? []) ecs.destroy();
  await emulator?.stop();
  await aws?.stop();
  await moto?.stop();
});

async function error(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number | undefined }> {
  return p.then(
    () => ({ name: 'succeeded', message: '' }),
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => ({
      name: e.name,
      message: e.message,
      status: e.$metadata?.httpStatusCode,
    }),
  );
}

const container = { name: 'web', image: 'sandbox.local/app:v1', memory: 512, portMappings: [{ containerPort: 8080 }] };

describe.each(['moto', 'emulator'] as const)('%s', (which) => {
  const ecs = () => clients.find((c) => c.name === which)!.ecs;

  it('RegisterTaskDefinition makes revision 1, 2 … of a family; DescribeTaskDefinition finds family and family:rev', async () => {
    const family = `web-${which}`;
    const first = await ecs().send(new RegisterTaskDefinitionCommand({ family, containerDefinitions: [container] }));
    const second = await ecs().send(
      new RegisterTaskDefinitionCommand({
        family,
        containerDefinitions: [container],
        tags: [{ key: 'k', value: 'v' }],
      }),
    );
    expect(first.taskDefinition).toMatchObject({
      family,
      revision: 1,
      status: 'ACTIVE',
      taskDefinitionArn: `arn:aws:ecs:us-east-1:123456789012:task-definition/${family}:1`,
    });
    expect(second.taskDefinition!.revision).toBe(2);
    const latest = await ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ['TAGS'] }));
    expect(latest.taskDefinition!.revision).toBe(2);
    expect(latest.tags).toEqual([{ key: 'k', value: 'v' }]);
    const pinned = await ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition: `${family}:1` }));
    expect(pinned.taskDefinition!.containerDefinitions![0]).toMatchObject({
      name: 'web',
      image: 'sandbox.local/app:v1',
    });
  });

  it('agrees on the ClientExceptions of RegisterTaskDefinition and DescribeTaskDefinition', async () => {
    expect(
      await error(
        ecs().send(new RegisterTaskDefinitionCommand({ family: 'x', containerDefinitions: [{ name: 'a' }] })),
      ),
    ).toEqual({ name: 'ClientException', message: 'Container.image should not be null or empty.', status: 400 });
    expect(
      await error(
        ecs().send(
          new RegisterTaskDefinitionCommand({ family: 'x', containerDefinitions: [{ name: 'web', image: 'a' }] }),
        ),
      ),
    ).toEqual({
      name: 'ClientException',
      message:
        "Invalid setting for container 'web'. At least one of 'memory' or 'memoryReservation' must be specified.",
      status: 400,
    });
    expect(await error(ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'nope' })))).toEqual({
      name: 'ClientException',
      message: 'Unable to describe task definition.',
      status: 400,
    });
  });

  it('agrees on ClusterNotFoundException, ServiceNotFoundException and failures reason MISSING', async () => {
    expect(await error(ecs().send(new DescribeServicesCommand({ cluster: 'nowhere', services: ['x'] })))).toMatchObject(
      {
        name: 'ClusterNotFoundException',
        message: 'Cluster not found.',
      },
    );
    expect(
      await error(ecs().send(new UpdateServiceCommand({ cluster: 'prod', service: 'ghost', desiredCount: 1 }))),
    ).toMatchObject({ name: 'ServiceNotFoundException', message: 'Service not found.' });
    const out = await ecs().send(new DescribeServicesCommand({ cluster: 'prod', services: ['ghost'] }));
    expect(out.services).toEqual([]);
    expect(out.failures![0]!.reason).toBe('MISSING');
  });

  it('CreateService / DescribeServices describe the service by its long-format ARN', async () => {
    const family = `svc-${which}`;
    await ecs().send(new RegisterTaskDefinitionCommand({ family, containerDefinitions: [container] }));
    const created = await ecs().send(
      new CreateServiceCommand({ cluster: 'prod', serviceName: family, taskDefinition: family, desiredCount: 1 }),
    );
    expect(created.service).toMatchObject({
      serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/prod/${family}`,
      clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
      status: 'ACTIVE',
      desiredCount: 1,
      taskDefinition: `arn:aws:ecs:us-east-1:123456789012:task-definition/${family}:1`,
      deploymentController: { type: 'ECS' },
    });
  });
});

describe('where moto 5.2.1 differs from AWS (pinned)', () => {
  const moto_ = () => clients.find((c) => c.name === 'moto')!.ecs;
  const ours = () => clients.find((c) => c.name === 'emulator')!.ecs;

  it('moto registers an empty containerDefinitions list; AWS (and the emulator) answer ClientException', async () => {
    const empty = new RegisterTaskDefinitionCommand({ family: 'empty', containerDefinitions: [] });
    expect((await moto_().send(empty)).taskDefinition!.containerDefinitions).toEqual([]);
    expect(await error(ours().send(empty))).toMatchObject({ name: 'ClientException' });
  });

  it('moto lets UpdateService change the task definition of a CODE_DEPLOY service; AWS refuses', async () => {
    for (const { ecs } of clients) {
      await ecs.send(new RegisterTaskDefinitionCommand({ family: 'cd', containerDefinitions: [container] }));
      await ecs.send(
        new CreateServiceCommand({
          cluster: 'prod',
          serviceName: 'cd',
          taskDefinition: 'cd',
          desiredCount: 1,
          deploymentController: { type: 'CODE_DEPLOY' },
        }),
      );
    }
    const update = new UpdateServiceCommand({ cluster: 'prod', service: 'cd', taskDefinition: 'cd:1' });
    // moto also echoes the reference as given ("cd:1") instead of the task definition ARN.
    expect((await moto_().send(update)).service!.taskDefinition).toBe('cd:1');
    expect(await error(ours().send(update))).toEqual({
      name: 'InvalidParameterException',
      message:
        'Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.',
      status: 400,
    });
  });

  it('an unknown task definition in UpdateService: moto says "Unable to describe task definition.", AWS "TaskDefinition not found."', async () => {
    await ours().send(new RegisterTaskDefinitionCommand({ family: 'ecs-svc', containerDefinitions: [container] }));
    await ours().send(
      new CreateServiceCommand({ cluster: 'prod', serviceName: 'ecs-svc', taskDefinition: 'ecs-svc', desiredCount: 1 }),
    );
    const update = (service: string) =>
      new UpdateServiceCommand({ cluster: 'prod', service, taskDefinition: 'nope:3' });
    expect(await error(moto_().send(update('cd')))).toMatchObject({
      name: 'ClientException',
      message: 'Unable to describe task definition.',
    });
    expect(await error(ours().send(update('ecs-svc')))).toMatchObject({
      name: 'ClientException',
      message: 'TaskDefinition not found.',
    });
  });
});
