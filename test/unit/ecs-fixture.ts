import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ECSServiceException,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type ServiceDeployment,
  type TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { FakeClock } from '../../src/core/clock';
import { captureLogger } from '../../src/core/logger';
import { newRecord } from '../../src/core/record';
import type { ImageByDigest, TargetContext } from '../../src/targets/target';

/** Shared by the ECS unit tests: mocked clients, a service on the ECS controller and its task definitions. */

export const ecsMock = mockClient(ECSClient);
export const elbMock = mockClient(ElasticLoadBalancingV2Client);
export const ecrMock = mockClient(ECRClient);
export const ecs = new ECSClient({ region: 'us-east-1' });
const elbv2 = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });

export const ACCOUNT = 'arn:aws:ecs:us-east-1:123456789012';
export const CLUSTER_ARN = `${ACCOUNT}:cluster/prod`;
export const SERVICE_ARN = `${ACCOUNT}:service/prod/web`;
export const td = (revision: number) => `${ACCOUNT}:task-definition/web:${revision}`;
export const revisionArn = (n: number) => `${ACCOUNT}:service-revision/prod/web/${n}`;
export const deploymentArn = (id: string) => `${ACCOUNT}:service-deployment/prod/web/${id}`;
export const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/0123456789abcdef';
export const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
export const OLD = `${REGISTRY}/web@sha256:${'a'.repeat(64)}`;
export const NEW = `${REGISTRY}/web@sha256:${'b'.repeat(64)}`;
export const SIDECAR = 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable';

export const image: ImageByDigest = { uri: NEW, digest: `sha256:${'b'.repeat(64)}`, repository: 'web' };

export function awsError(name: string, status = 400): ECSServiceException {
  return new ECSServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    message: `${name} happened`,
    $metadata: { httpStatusCode: status },
  });
}

/** The environment of the container the tests deploy. */
export const ENVIRONMENT = [
  { name: 'MODE', value: 'prod' },
  { name: 'LOG', value: 'info' },
];

/** A task definition as DescribeTaskDefinition answers it: read-only fields included. */
export function described(revision: number, containerImage = OLD, extra: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    taskDefinitionArn: td(revision),
    family: 'web',
    revision,
    status: 'ACTIVE',
    requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.ecr-auth' }],
    compatibilities: ['EC2', 'FARGATE'],
    registeredAt: new Date('2026-01-01T00:00:00Z'),
    registeredBy: 'arn:aws:iam::123456789012:role/deployer',
    deregisteredAt: new Date('2026-01-02T00:00:00Z'),
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    executionRoleArn: 'arn:aws:iam::123456789012:role/web-execution',
    containerDefinitions: [
      {
        name: 'app',
        image: containerImage,
        essential: true,
        portMappings: [{ containerPort: 8080 }],
        environment: ENVIRONMENT,
      },
      { name: 'log-router', image: SIDECAR, essential: false },
    ],
    ...extra,
  };
}

export function service(taskDefinition: string, extra: Partial<Service> = {}): Service {
  return {
    serviceArn: SERVICE_ARN,
    serviceName: 'web',
    clusterArn: CLUSTER_ARN,
    status: 'ACTIVE',
    taskDefinition,
    desiredCount: 3,
    deploymentController: { type: 'ECS' },
    loadBalancers: [],
    deployments: [{ status: 'PRIMARY', taskDefinition, rolloutState: 'COMPLETED', runningCount: 3, desiredCount: 3 }],
    ...extra,
  };
}

export interface FakeEcs {
  /** What the service runs now (UpdateService changes it). */
  current: string;
  registered: RegisterTaskDefinitionCommandInput[];
  definitions: Map<string, TaskDefinition>;
  /** Deployments in progress, answered to ListServiceDeployments with a status filter (the busy check). */
  active: { serviceDeploymentArn: string; status: string }[];
  /** How many task definitions had been registered at each busy check. */
  busyLooks: number[];
  /** The busy check answers none in progress from this look on. */
  idleFromLook?: number;
}

/**
 * A service on the ECS controller running web:7: RegisterTaskDefinition answers web:8, web:9…; each UpdateService
 * starts a deployment `dep-<revision>` whose target service revision maps to its task definition; the deployment's
 * looks are `looks` (the last one repeats), by default IN_PROGRESS then SUCCESSFUL.
 */
export function fakeEcs(
  options: { looks?: Partial<ServiceDeployment>[]; service?: Partial<Service>; definition?: TaskDefinition } = {},
): FakeEcs {
  const state: FakeEcs = {
    current: td(7),
    registered: [],
    definitions: new Map([[td(7), options.definition ?? described(7)]]),
    active: [],
    busyLooks: [],
  };
  let next = 8;
  ecsMock.on(DescribeServicesCommand).callsFake(() => ({ services: [service(state.current, options.service)] }));
  ecsMock.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    const found = state.definitions.get(input.taskDefinition);
    if (!found) throw awsError('ClientException');
    return { taskDefinition: found, tags: [{ key: 'team', value: 'payments' }] };
  });
  ecsMock.on(RegisterTaskDefinitionCommand).callsFake((input: RegisterTaskDefinitionCommandInput) => {
    state.registered.push(input);
    const revision = next++;
    const definition = { ...input, taskDefinitionArn: td(revision), revision, status: 'ACTIVE' } as TaskDefinition;
    state.definitions.set(td(revision), definition);
    return { taskDefinition: definition };
  });
  const updated: string[] = [];
  ecsMock.on(UpdateServiceCommand).callsFake((input: { taskDefinition: string }) => {
    state.current = input.taskDefinition;
    updated.push(input.taskDefinition);
    return { service: service(state.current, options.service) };
  });
  ecsMock.on(ListServiceDeploymentsCommand).callsFake((input: { status?: string[] }) => {
    if (input.status) {
      state.busyLooks.push(state.registered.length);
      if (state.idleFromLook !== undefined && state.busyLooks.length >= state.idleFromLook) state.active = [];
      return { serviceDeployments: state.active };
    }
    return {
      serviceDeployments: [...updated].reverse().map((arn) => {
        const n = Number(arn.slice(arn.lastIndexOf(':') + 1));
        return { serviceDeploymentArn: deploymentArn(`dep-${n}`), targetServiceRevisionArn: revisionArn(n) };
      }),
    };
  });
  ecsMock.on(DescribeServiceRevisionsCommand).callsFake((input: { serviceRevisionArns: string[] }) => ({
    serviceRevisions: input.serviceRevisionArns.map((arn) => ({
      serviceRevisionArn: arn,
      taskDefinition: td(Number(arn.slice(arn.lastIndexOf('/') + 1))),
    })),
  }));
  const looks = options.looks ?? [
    {
      status: 'IN_PROGRESS',
      lifecycleStage: 'SCALE_UP',
      targetServiceRevision: { runningTaskCount: 1, requestedTaskCount: 3 },
    },
    {
      status: 'SUCCESSFUL',
      lifecycleStage: 'CLEAN_UP',
      targetServiceRevision: { runningTaskCount: 3, requestedTaskCount: 3 },
    },
  ];
  let look = 0;
  ecsMock.on(DescribeServiceDeploymentsCommand).callsFake((input: { serviceDeploymentArns: string[] }) => ({
    serviceDeployments: [
      { serviceDeploymentArn: input.serviceDeploymentArns[0], ...looks[Math.min(look++, looks.length - 1)] },
    ],
  }));
  return state;
}

export function healthyTargets(): void {
  elbMock.on(DescribeTargetHealthCommand).resolves({
    TargetHealthDescriptions: [
      { Target: { Id: '10.0.1.5', Port: 8080 }, TargetHealth: { State: 'healthy' } },
      { Target: { Id: '10.0.2.7', Port: 8080 }, TargetHealth: { State: 'healthy' } },
    ],
  });
}

export function context(extra: Partial<TargetContext> = {}) {
  const logger = captureLogger();
  const saved = new Map<string, string>();
  const ctx: TargetContext = {
    region: 'us-east-1',
    env: {},
    clock: new FakeClock(1_700_000_000_000),
    logger,
    ecr: new ECRClient({ region: 'us-east-1' }),
    clients: { ecs, elbv2 },
    pollDelays: { minDelayMs: 1_000, maxDelayMs: 5_000 },
    saveState: (name, value) => saved.set(name, value),
    ...extra,
  };
  return { ctx, logger, saved };
}

export const record = () => newRecord('a1b2c3d4e5f60718293a4b5c6d7e8f9012345678');

export const TIMEOUT = 30 * 60_000;

/** The old image in ECR, tagged with its commit. */
export const OLD_COMMIT = '0123456789abcdef0123456789abcdef01234567';

export function resetMocks(): void {
  ecsMock.reset();
  elbMock.reset();
  ecrMock.reset();
  ecrMock.on(DescribeImagesCommand).resolves({
    imageDetails: [{ imageDigest: `sha256:${'a'.repeat(64)}`, imageTags: [`sha-${OLD_COMMIT}`] }],
  });
}
