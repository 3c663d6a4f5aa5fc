import {
  AppRunnerClient,
  CreateServiceCommand,
  DescribeServiceCommand,
  ListTagsForResourceCommand as ListAppRunnerTagsCommand,
  ListOperationsCommand,
  PauseServiceCommand,
  ResumeServiceCommand,
  StartDeploymentCommand,
  TagResourceCommand as TagAppRunnerCommand,
  UntagResourceCommand as UntagAppRunnerCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-apprunner';
import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  DescribeTagsCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  UpdateImageStorageClassCommand,
} from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand as CreateEcsServiceCommand,
  CreateExpressGatewayServiceCommand,
  DeleteServiceCommand,
  DescribeClustersCommand,
  DescribeExpressGatewayServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTagsForResourceCommand as ListEcsTagsCommand,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  TagResourceCommand as TagEcsCommand,
  UntagResourceCommand as UntagEcsCommand,
  UpdateServiceCommand as UpdateEcsServiceCommand,
  UpdateExpressGatewayServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { docker } from '../../sandbox/docker';
import { AutoScalingEmulator } from '../../sandbox/emulator/autoscaling';
import { Elbv2Emulator } from '../../sandbox/emulator/elbv2';
import { AwsEmulator, type RecordedCall } from '../../sandbox/emulator/server';
import { FakeLauncher } from '../../sandbox/fake-launcher';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { checkCall, loadModels, parseXml, type ServiceModel } from '../../sandbox/model-check';
import { sampleAppContext } from '../../sandbox/sample-app';
import { poll } from '../../src/core/poller';

// Every operation the emulators serve, driven with the real SDK clients (successes and the main errors), and every
// raw answer held against AWS's own model of that service (botocore's service-2.json). A new emulated operation
// without a drive here fails the last test, so the check stays standing. Needs python3 with botocore: without it
// this file fails (it never skips), saying how to install it.

jest.setTimeout(120_000);

/** Emulator service name → botocore model name. */
const MODEL_OF: Record<string, string> = {
  ecr: 'ecr',
  apprunner: 'apprunner',
  autoscaling: 'autoscaling',
  elbv2: 'elbv2',
  ecs: 'ecs',
  cloudwatch: 'cloudwatch',
};

let models: Record<string, ServiceModel>;
let sandbox: Sandbox;
/** Auto Scaling and ELBv2 over fake instances: the state machine, not real images, is what is exercised here. */
let fleet: AwsEmulator;
let asg: AutoScalingEmulator;
let launcher: FakeLauncher;
const savedEnv = { ...process.env };

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

beforeAll(async () => {
  // First, so a missing botocore fails the file at once with the install hint.
  models = loadModels(Object.values(MODEL_OF)).models;
  sandbox = await startSandbox();
  sandbox.apprunner.timing = { deployMs: 200, healthCheckMs: 600, pendingMs: 50 };
  fleet = new AwsEmulator();
  launcher = new FakeLauncher();
  asg = new AutoScalingEmulator(launcher);
  asg.timing = { bootMs: 20, healthCheckMs: 30, graceMs: 400, secondMs: 5, waitMs: 300, pendingMs: 20 };
  fleet.register(asg.definition());
  fleet.register(new Elbv2Emulator(asg).definition());
  await fleet.start();
  Object.assign(process.env, sandbox.aws.clientEnv(), {
    AWS_ENDPOINT_URL_AUTO_SCALING: fleet.endpoint,
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: fleet.endpoint,
    // One attempt per call: every recorded answer is the one the SDK acted on.
    AWS_MAX_ATTEMPTS: '1',
  });
}, 180_000);

afterAll(async () => {
  await asg?.stop();
  await fleet?.stop();
  await sandbox?.stop();
  process.env = savedEnv;
});

function allCalls(): RecordedCall[] {
  return [...(sandbox?.aws.calls ?? []), ...(fleet?.calls ?? [])];
}

/**
 * Where AWS itself answers outside its model, so the emulator does too (each with why). Keep this list short: a line
 * here must cite what AWS really sends.
 */
const AWS_OUTSIDE_ITS_MODEL: { problem: RegExp; why: string }[] = [
  {
    problem: /^apprunner\.\w+\.Service\.ServiceId: "[0-9a-f]{32}" does not match/,
    why:
      'App Runner service ids are 32 hex digits without dashes (the last segment of every service ARN, ' +
      'e.g. service/python-app/8fe1e10304f84fd2b0df550fe98a71fa in AWS docs), not the UUID the model pattern names.',
  },
];

/**
 * Where our emulator answers outside AWS's model and the fix is not a shape fix (the toolkit depends on the answer).
 * Each entry must still be seen (the last test checks), so a fix forces its removal here.
 */
// Where the emulator knowingly answers outside AWS's model (each entry must still be seen, so a fixed one is removed).
const EMULATOR_OUTSIDE_THE_MODEL: { problem: RegExp; why: string }[] = [];
const seenEmulatorGaps = new Set<RegExp>();

/** Every distinct way a recorded answer of `service` breaks its model, one line each. */
function violations(service: string): string[] {
  const model = models[MODEL_OF[service]!]!;
  const problems = allCalls()
    .filter((c) => c.service === service)
    .flatMap((c) => checkCall(model, c))
    .filter((p) => !AWS_OUTSIDE_ITS_MODEL.some((known) => known.problem.test(p)))
    .filter((p) => {
      const gap = EMULATOR_OUTSIDE_THE_MODEL.find((known) => known.problem.test(p));
      if (gap) seenEmulatorGaps.add(gap.problem);
      return !gap;
    });
  return [...new Set(problems)];
}

/** Runs a call that must fail, returning the SDK's error (its recorded answer is checked like any other). */
async function failure(promise: Promise<unknown>): Promise<Error & { name: string }> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!outcome) throw new Error('the call succeeded where an error was driven');
  return outcome;
}

describe('the model check itself', () => {
  it('catches an unknown member, a wrong type, a bad enum, an ISO timestamp in JSON and an unlisted error', () => {
    const ecr = models.ecr!;
    const call = (status: number, body: unknown, headers: Record<string, string> = {}): RecordedCall => ({
      service: 'ecr',
      operation: 'DescribeRepositories',
      params: {},
      at: 0,
      response: { status, headers, body: JSON.stringify(body) },
    });
    const problems = checkCall(
      ecr,
      call(200, {
        repositories: [{ repositoryName: 5, imageTagMutability: 'SOMETIMES', createdAt: '2026-01-01T00:00:00Z' }],
        extra: true,
      }),
    );
    expect(problems).toEqual([
      expect.stringContaining('repositoryName: a number where the model has a string'),
      expect.stringContaining('"SOMETIMES" is not one of'),
      expect.stringContaining('createdAt: a string where the model has a timestamp'),
      expect.stringContaining('extra: not a member'),
    ]);
    expect(checkCall(ecr, call(400, { message: 'x' }, { 'x-amzn-errortype': 'ImageNotFoundException' }))[0]).toContain(
      'not one the model lets it return',
    );
  });

  it('catches a query answer without its <Result> wrapper and an epoch timestamp in XML', () => {
    const autoscaling = models.autoscaling!;
    const answer = (body: string): RecordedCall => ({
      service: 'autoscaling',
      operation: 'DescribeInstanceRefreshes',
      params: {},
      at: 0,
      response: { status: 200, headers: {}, body },
    });
    const meta = '<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>';
    expect(
      checkCall(autoscaling, answer(`<DescribeInstanceRefreshesResponse>${meta}</DescribeInstanceRefreshesResponse>`)),
    ).toEqual([expect.stringContaining('no <DescribeInstanceRefreshesResult>')]);
    const refresh =
      '<InstanceRefreshes><member><InstanceRefreshId>i</InstanceRefreshId><StartTime>1767225600</StartTime>' +
      '<Status>Done</Status></member></InstanceRefreshes>';
    expect(
      checkCall(
        autoscaling,
        answer(
          `<DescribeInstanceRefreshesResponse><DescribeInstanceRefreshesResult>${refresh}</DescribeInstanceRefreshesResult>${meta}</DescribeInstanceRefreshesResponse>`,
        ),
      ),
    ).toEqual([expect.stringContaining('is not ISO-8601'), expect.stringContaining('"Done" is not one of')]);
    expect(parseXml('<a><b>1 &amp; 2</b></a>').children[0]!.children[0]!.text).toBe('1 & 2');
  });
});

describe('ECR answers conform to the ecr 2015-09-21 model', () => {
  let manifest: string;
  beforeAll(async () => {
    const ecr = new ECRClient({});
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'web' }));
    await failure(ecr.send(new CreateRepositoryCommand({ repositoryName: 'web' })));
    await failure(ecr.send(new CreateRepositoryCommand({ repositoryName: 'Bad_Name' })));
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'frozen', imageTagMutability: 'IMMUTABLE' }));
    const auth = await ecr.send(new GetAuthorizationTokenCommand({}));
    const data = auth.authorizationData![0]!;
    const password = Buffer.from(data.authorizationToken!, 'base64').toString().replace(/^AWS:/, '');
    const registry = new URL(data.proxyEndpoint!).host;
    await docker(['login', '--username', 'AWS', '--password-stdin', registry], sandbox.env(), password);
    const context = await sampleAppContext();
    await docker(['build', '-t', `${registry}/web:v1`, '--build-arg', 'VERSION=v1', context], sandbox.env());
    await docker(['push', `${registry}/web:v1`], sandbox.env());
    await docker(['tag', `${registry}/web:v1`, `${registry}/frozen:release`], sandbox.env());
    await docker(['push', `${registry}/frozen:release`], sandbox.env());

    await ecr.send(new DescribeRepositoriesCommand({}));
    await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['web'] }));
    await failure(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['nowhere'] })));
    await failure(ecr.send(new DescribeRepositoriesCommand({ maxResults: 0 })));
    await ecr.send(new DescribeImagesCommand({ repositoryName: 'web' }));
    await ecr.send(new DescribeImagesCommand({ repositoryName: 'web', imageIds: [{ imageTag: 'v1' }] }));
    await failure(ecr.send(new DescribeImagesCommand({ repositoryName: 'web', imageIds: [{ imageTag: 'none' }] })));
    await failure(ecr.send(new DescribeImagesCommand({ repositoryName: 'nowhere' })));
    const got = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'web',
        imageIds: [{ imageTag: 'v1' }, { imageTag: 'none' }],
        acceptedMediaTypes: [DOCKER_MANIFEST, OCI_MANIFEST],
      }),
    );
    await failure(ecr.send(new BatchGetImageCommand({ repositoryName: 'nowhere', imageIds: [{ imageTag: 'v1' }] })));
    manifest = got.images![0]!.imageManifest!;
    const put = (repositoryName: string, imageTag: string, extra: Record<string, string> = {}) =>
      ecr.send(
        new PutImageCommand({
          repositoryName,
          imageManifest: manifest,
          imageManifestMediaType: DOCKER_MANIFEST,
          imageTag,
          ...extra,
        }),
      );
    await put('web', 'v1-copy');
    await failure(put('web', 'v1-copy'));
    await failure(put('web', 'v1-guarded', { imageDigest: `sha256:${'0'.repeat(64)}` }));
    await failure(put('nowhere', 'v1'));
    const other = JSON.stringify({ ...JSON.parse(manifest), annotations: { moved: 'yes' } });
    await failure(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'frozen',
          imageManifest: other,
          imageManifestMediaType: DOCKER_MANIFEST,
          imageTag: 'release',
        }),
      ),
    );
    const archive = (targetStorageClass: string, imageTag = 'v1') =>
      ecr.send(
        new UpdateImageStorageClassCommand({
          repositoryName: 'web',
          imageId: { imageTag },
          targetStorageClass: targetStorageClass as 'ARCHIVE',
        }),
      );
    await archive('ARCHIVE');
    await archive('STANDARD');
    await failure(archive('ARCHIVE', 'none'));
    await failure(archive('GLACIER'));
    await ecr.send(
      new PutImageTagMutabilityCommand({
        repositoryName: 'frozen',
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'deployed-*' }],
      }),
    );
    await failure(
      ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'nowhere', imageTagMutability: 'MUTABLE' })),
    );
    await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'web', imageIds: [{ imageTag: 'v1-copy' }, { imageTag: 'none' }] }),
    );
    await failure(ecr.send(new BatchDeleteImageCommand({ repositoryName: 'nowhere', imageIds: [{ imageTag: 'v1' }] })));
    await failure(
      ecr.send(
        new BatchDeleteImageCommand({
          repositoryName: 'web',
          imageIds: Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` })),
        }),
      ),
    );
    const lifecycle = (repositoryName: string, rules: unknown[]) =>
      ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: JSON.stringify({ rules }) }));
    const expireUntagged = {
      rulePriority: 2,
      description: 'expire untagged images after a week',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 },
      action: { type: 'expire' },
    };
    await failure(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'web' })));
    await lifecycle('web', [
      {
        rulePriority: 1,
        selection: {
          tagStatus: 'tagged',
          tagPatternList: ['deployed-*'],
          countType: 'imageCountMoreThan',
          countNumber: 99999,
        },
        action: { type: 'expire' },
      },
      expireUntagged,
    ]);
    await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'web' }));
    await failure(lifecycle('web', [expireUntagged, { ...expireUntagged, description: 'the same priority again' }]));
    await failure(lifecycle('nowhere', [expireUntagged]));
    await failure(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'nowhere' })));
    ecr.destroy();
  }, 180_000);

  it('has no member, type, enum, required field, timestamp or error code outside the model', () => {
    expect(violations('ecr')).toEqual([]);
  });
});

describe('App Runner answers conform to the apprunner 2020-05-15 model', () => {
  beforeAll(async () => {
    const apprunner = new AppRunnerClient({});
    const settled = (arn: string) =>
      poll({
        what: 'service settled',
        timeoutMs: 60_000,
        minDelayMs: 50,
        maxDelayMs: 100,
        check: async () => {
          const { Service } = await apprunner.send(new DescribeServiceCommand({ ServiceArn: arn }));
          return Service?.Status === 'OPERATION_IN_PROGRESS' ? { done: false } : { done: true, value: Service };
        },
      });
    const source = (tag: string) => ({
      ImageRepository: {
        ImageIdentifier: `${sandbox.registry.host}/web:${tag}`,
        ImageRepositoryType: 'ECR' as const,
        ImageConfiguration: { Port: '8080' },
      },
      AutoDeploymentsEnabled: false,
    });
    // web:v1 is pushed by the ECR block above (jest runs the describe blocks' beforeAll in order).
    const created = await apprunner.send(
      new CreateServiceCommand({
        ServiceName: 'conformance',
        SourceConfiguration: source('v1'),
        HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/health', HealthyThreshold: 1 },
      }),
    );
    const arn = created.Service!.ServiceArn!;
    await failure(apprunner.send(new CreateServiceCommand({ ServiceName: 'no-source' } as never)));
    await failure(apprunner.send(new UpdateServiceCommand({ ServiceArn: arn, SourceConfiguration: source('v1') })));
    await failure(apprunner.send(new StartDeploymentCommand({ ServiceArn: arn })));
    await settled(arn);
    await failure(apprunner.send(new DescribeServiceCommand({ ServiceArn: `${arn}-gone` })));
    await apprunner.send(new UpdateServiceCommand({ ServiceArn: arn, SourceConfiguration: source('v1') }));
    await settled(arn);
    await apprunner.send(new StartDeploymentCommand({ ServiceArn: arn }));
    await failure(apprunner.send(new StartDeploymentCommand({ ServiceArn: `${arn}-gone` })));
    await settled(arn);
    await apprunner.send(new ListOperationsCommand({ ServiceArn: arn, MaxResults: 2 }));
    await failure(apprunner.send(new ListOperationsCommand({ ServiceArn: arn, MaxResults: 0 })));
    await apprunner.send(new PauseServiceCommand({ ServiceArn: arn }));
    await settled(arn);
    await failure(apprunner.send(new PauseServiceCommand({ ServiceArn: arn })));
    await apprunner.send(new ResumeServiceCommand({ ServiceArn: arn }));
    await settled(arn);
    await failure(apprunner.send(new ResumeServiceCommand({ ServiceArn: arn })));
    await apprunner.send(new DescribeServiceCommand({ ServiceArn: arn }));
    await apprunner.send(
      new TagAppRunnerCommand({ ResourceArn: arn, Tags: [{ Key: 'aws-deploy-kit:paused-at', Value: 'now' }] }),
    );
    await failure(apprunner.send(new TagAppRunnerCommand({ ResourceArn: arn, Tags: [{ Key: 'aws:x', Value: '1' }] })));
    await apprunner.send(new ListAppRunnerTagsCommand({ ResourceArn: arn }));
    await failure(apprunner.send(new ListAppRunnerTagsCommand({ ResourceArn: `${arn}-gone` })));
    await apprunner.send(new UntagAppRunnerCommand({ ResourceArn: arn, TagKeys: ['aws-deploy-kit:paused-at'] }));
    await failure(apprunner.send(new UntagAppRunnerCommand({ ResourceArn: `${arn}-gone`, TagKeys: ['a'] })));
    apprunner.destroy();
  }, 120_000);

  it('has no member, type, enum, required field, timestamp or error code outside the model', () => {
    expect(violations('apprunner')).toEqual([]);
  });
});

describe('Auto Scaling and ELBv2 answers conform to the autoscaling 2011-01-01 and elbv2 2015-12-01 models', () => {
  beforeAll(async () => {
    const autoscaling = new AutoScalingClient({});
    const elbv2 = new ElasticLoadBalancingV2Client({});
    const settle = (name: string) =>
      poll({
        what: `refreshes of ${name} ended`,
        timeoutMs: 60_000,
        minDelayMs: 20,
        maxDelayMs: 50,
        check: async () => {
          const out = await autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name }));
          const active = out.InstanceRefreshes?.some((r) =>
            ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'].includes(r.Status!),
          );
          return active ? { done: false } : { done: true, value: out };
        },
      });
    launcher.push('web', 'latest', { version: 'v1', healthy: true });
    await asg.createGroup({ name: 'web', repository: 'web', instances: 2 });
    const group = asg.groups.get('web')!;
    launcher.push('web', 'v2', { version: 'v2', healthy: true });
    const v2 = asg.addTemplateVersion('web', { repository: 'web', reference: 'v2' });

    await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }));
    await autoscaling.send(new DescribeAutoScalingGroupsCommand({}));
    await failure(autoscaling.send(new DescribeAutoScalingGroupsCommand({ NextToken: 'forged' })));
    await autoscaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: 'web',
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: group.template.id, Version: v2 } },
        Preferences: { MinHealthyPercentage: 50, InstanceWarmup: 200, CheckpointPercentages: [50, 100] },
      }),
    );
    await failure(autoscaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'web' })));
    await failure(autoscaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'nowhere' })));
    await autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web' }));
    await autoscaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    await settle('web');
    await failure(autoscaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'web' })));
    await autoscaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'web', Preferences: {} }));
    await autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    const ended = await settle('web');
    await failure(autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web' })));
    await autoscaling.send(
      new DescribeInstanceRefreshesCommand({
        AutoScalingGroupName: 'web',
        InstanceRefreshIds: ended.InstanceRefreshes!.map((r) => r.InstanceRefreshId!),
        MaxRecords: 1,
      }),
    );
    await failure(autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: '' })));
    const tag = (Key: string, Value = '1') => ({
      ResourceId: 'web',
      ResourceType: 'auto-scaling-group',
      Key,
      Value,
      PropagateAtLaunch: false,
    });
    await autoscaling.send(new CreateOrUpdateTagsCommand({ Tags: [tag('aws-deploy-kit:paused-min', '2')] }));
    await failure(
      autoscaling.send(new CreateOrUpdateTagsCommand({ Tags: Array.from({ length: 51 }, (_, i) => tag(`k${i}`)) })),
    );
    await autoscaling.send(
      new DescribeTagsCommand({ Filters: [{ Name: 'auto-scaling-group', Values: ['web'] }], MaxRecords: 10 }),
    );
    await failure(autoscaling.send(new DescribeTagsCommand({ NextToken: 'forged' })));
    await autoscaling.send(new DeleteTagsCommand({ Tags: [tag('aws-deploy-kit:paused-min')] }));
    await failure(autoscaling.send(new DeleteTagsCommand({ Tags: [{ ...tag('x'), ResourceId: 'nowhere' }] })));
    await autoscaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web', MinSize: 0, DesiredCapacity: 0 }),
    );
    await failure(
      autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web', MinSize: 3, MaxSize: 2 })),
    );
    await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }));

    const [arn] = group.targetGroupArns;
    await elbv2.send(new DescribeTargetGroupsCommand({}));
    await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn!] }));
    await failure(elbv2.send(new DescribeTargetGroupsCommand({ Names: ['nowhere'] })));
    await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn! }));
    await failure(elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: `${arn}0` })));
    autoscaling.destroy();
    elbv2.destroy();
  }, 120_000);

  it('Auto Scaling has no member, type, enum, required field, timestamp or error code outside the model', () => {
    expect(violations('autoscaling')).toEqual([]);
  });

  it('ELBv2 has no member, type, enum, required field, timestamp or error code outside the model', () => {
    expect(violations('elbv2')).toEqual([]);
  });
});

describe('ECS answers conform to the ecs 2014-11-13 model', () => {
  beforeAll(async () => {
    sandbox.ecs.timing = {
      taskStartMs: 20,
      healthCheckMs: 30,
      unhealthyAfterMs: 500,
      pendingMs: 20,
      minuteMs: 20,
      tickMs: 10,
    };
    const ecs = new ECSClient({});
    const elbv2 = new ElasticLoadBalancingV2Client({ endpoint: sandbox.aws.endpoint });
    // web:v1 is pushed by the ECR block above.
    const image = `${sandbox.registry.host}/web:v1`;
    const settled = () => sandbox.ecs.settle();
    await ecs.send(new CreateClusterCommand({ clusterName: 'conformance' }));
    await failure(ecs.send(new CreateClusterCommand({ clusterName: 'bad name!' })));
    await ecs.send(new DescribeClustersCommand({ clusters: ['conformance', 'nowhere'] }));
    await failure(ecs.send(new DescribeClustersCommand({ clusters: Array.from({ length: 101 }, (_, i) => `c${i}`) })));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'conf',
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        containerDefinitions: [
          { name: 'web', image, portMappings: [{ containerPort: 8080 }], environment: [{ name: 'A', value: 'b' }] },
        ],
        tags: [{ key: 'team', value: 'platform' }],
      }),
    );
    await failure(ecs.send(new RegisterTaskDefinitionCommand({ family: 'conf', containerDefinitions: [] })));
    await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'conf', include: ['TAGS'] }));
    await failure(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'conf:7' })));
    await ecs.send(
      new CreateEcsServiceCommand({
        cluster: 'conformance',
        serviceName: 'conf',
        taskDefinition: 'conf',
        desiredCount: 1,
        launchType: 'FARGATE',
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    await failure(
      ecs.send(new CreateEcsServiceCommand({ cluster: 'nowhere', serviceName: 'x', taskDefinition: 'conf' })),
    );
    await settled();
    await ecs.send(new UpdateEcsServiceCommand({ cluster: 'conformance', service: 'conf', forceNewDeployment: true }));
    await failure(ecs.send(new UpdateEcsServiceCommand({ cluster: 'conformance', service: 'ghost', desiredCount: 1 })));
    await ecs.send(
      new DescribeServicesCommand({ cluster: 'conformance', services: ['conf', 'ghost'], include: ['TAGS'] }),
    );
    await settled();
    await ecs.send(new DescribeServicesCommand({ cluster: 'conformance', services: ['conf'] }));
    await failure(ecs.send(new DescribeServicesCommand({ cluster: 'nowhere', services: ['conf'] })));
    const listed = await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'conformance', service: 'conf' }));
    await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'conformance', service: 'conf', maxResults: 1 }));
    await failure(
      ecs.send(new ListServiceDeploymentsCommand({ cluster: 'conformance', service: 'conf', maxResults: 0 })),
    );
    const arns = listed.serviceDeployments!.map((d) => d.serviceDeploymentArn!);
    const described = await ecs.send(
      new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [...arns, `${arns[0]}x`] }),
    );
    await failure(ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [] })));
    const revisions = described.serviceDeployments!.map((d) => d.targetServiceRevision!.arn!);
    await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [...revisions, `${revisions[0]}9`] }));
    await failure(ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [] })));
    // A deployment caught while PENDING, stopped, described while rolling back and after.
    sandbox.ecs.timing = { ...sandbox.ecs.timing, pendingMs: 300 };
    await ecs.send(new UpdateEcsServiceCommand({ cluster: 'conformance', service: 'conf', forceNewDeployment: true }));
    const [pending] = (await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'conformance', service: 'conf' })))
      .serviceDeployments!;
    await ecs.send(
      new StopServiceDeploymentCommand({ serviceDeploymentArn: pending!.serviceDeploymentArn!, stopType: 'ROLLBACK' }),
    );
    await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [pending!.serviceDeploymentArn!] }));
    sandbox.ecs.timing = { ...sandbox.ecs.timing, pendingMs: 20 };
    await settled();
    await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [pending!.serviceDeploymentArn!] }));
    await failure(ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: pending!.serviceDeploymentArn! })));
    await failure(
      ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: `${pending!.serviceDeploymentArn}x` })),
    );
    const tg = sandbox.ecs.targetGroupList()[0]!.arn;
    await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg] }));
    await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));

    const express = await ecs.send(
      new CreateExpressGatewayServiceCommand({
        cluster: 'conformance',
        serviceName: 'conf-express',
        executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
        infrastructureRoleArn: 'arn:aws:iam::123456789012:role/ecsInfrastructureRole',
        healthCheckPath: '/health',
        primaryContainer: { image, containerPort: 8080 },
      }),
    );
    await failure(
      ecs.send(
        new CreateExpressGatewayServiceCommand({
          executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
          infrastructureRoleArn: 'arn:aws:iam::123456789012:role/ecsInfrastructureRole',
          primaryContainer: { image: '' },
        }),
      ),
    );
    const expressArn = express.service!.serviceArn!;
    await settled();
    await ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn: expressArn, include: ['TAGS'] }));
    await failure(ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn: `${expressArn}x` })));
    await ecs.send(
      new UpdateExpressGatewayServiceCommand({
        serviceArn: expressArn,
        primaryContainer: { image, containerPort: 8080 },
      }),
    );
    await failure(ecs.send(new UpdateExpressGatewayServiceCommand({ serviceArn: `${expressArn}x`, cpu: '512' })));
    await settled();
    await ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn: expressArn }));
    const serviceArn = 'arn:aws:ecs:us-east-1:123456789012:service/conformance/conf';
    await ecs.send(
      new TagEcsCommand({ resourceArn: serviceArn, tags: [{ key: 'aws-deploy-kit:paused-desired', value: '2' }] }),
    );
    await failure(ecs.send(new TagEcsCommand({ resourceArn: serviceArn, tags: [{ key: 'AWS:x', value: '1' }] })));
    await ecs.send(new ListEcsTagsCommand({ resourceArn: serviceArn }));
    await failure(ecs.send(new ListEcsTagsCommand({ resourceArn: `${serviceArn}x` })));
    await ecs.send(new UntagEcsCommand({ resourceArn: serviceArn, tagKeys: ['aws-deploy-kit:paused-desired'] }));
    await failure(ecs.send(new UntagEcsCommand({ resourceArn: `${serviceArn}x`, tagKeys: ['a'] })));
    await ecs.send(new UpdateEcsServiceCommand({ cluster: 'conformance', service: 'conf', desiredCount: 0 }));
    await ecs.send(new DeleteServiceCommand({ cluster: 'conformance', service: 'conf' }));
    await failure(ecs.send(new DeleteServiceCommand({ cluster: 'conformance', service: 'ghost' })));
    ecs.destroy();
    elbv2.destroy();
  }, 120_000);

  it('has no member, type, enum, required field, timestamp or error code outside the model', () => {
    expect(violations('ecs')).toEqual([]);
  });

  it('ELBv2 answers over ECS target groups conform too', () => {
    expect(violations('elbv2')).toEqual([]);
  });
});

describe('CloudWatch answers conform to the cloudwatch 2010-08-01 model, over JSON and awsQuery', () => {
  beforeAll(async () => {
    const cloudwatch = new CloudWatchClient({});
    const alarm = {
      AlarmName: 'conformance-5xx',
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Dimensions: [{ Name: 'LoadBalancer', Value: 'app/conformance/0123456789abcdef' }],
      Statistic: 'Sum' as const,
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold' as const,
      TreatMissingData: 'notBreaching',
    };
    await cloudwatch.send(new PutMetricAlarmCommand(alarm));
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: 'conformance-rate',
        EvaluationPeriods: 2,
        DatapointsToAlarm: 1,
        Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
        Metrics: [
          { Id: 'e1', Expression: '100*FILL(m1,0)/m2', ReturnData: true },
          {
            Id: 'm1',
            MetricStat: {
              Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count' },
              Period: 60,
              Stat: 'Sum',
            },
            ReturnData: false,
          },
          {
            Id: 'm2',
            MetricStat: {
              Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount' },
              Period: 60,
              Stat: 'Sum',
            },
            ReturnData: false,
          },
        ],
      }),
    );
    await failure(cloudwatch.send(new PutMetricAlarmCommand({ ...alarm, Metrics: [{ Id: 'm1', Expression: '1' }] })));
    await cloudwatch.send(
      new PutMetricDataCommand({ Namespace: 'Conformance', MetricData: [{ MetricName: 'Hits', Value: 1 }] }),
    );
    await failure(
      cloudwatch.send(new PutMetricDataCommand({ Namespace: 'AWS/Mine', MetricData: [{ MetricName: 'x', Value: 1 }] })),
    );
    await cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: alarm.AlarmName, StateValue: 'ALARM', StateReason: 'drill' }),
    );
    await failure(
      cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'gone', StateValue: 'ALARM', StateReason: 'x' })),
    );
    await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [alarm.AlarmName, 'conformance-rate'] }));
    await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'conformance-', MaxRecords: 1 }));
    await failure(cloudwatch.send(new DescribeAlarmsCommand({ NextToken: 'not-a-token' })));
    await failure(cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['a'], AlarmNamePrefix: 'a' })));
    // The same over awsQuery, as the aws CLI sends it.
    const form = async (params: Record<string, string>) =>
      fetch(sandbox.aws.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ Version: '2010-08-01', ...params }),
      });
    await form({
      Action: 'DescribeAlarms',
      'AlarmNames.member.1': alarm.AlarmName,
      'AlarmNames.member.2': 'conformance-rate',
    });
    await form({ Action: 'DescribeAlarms', NextToken: 'not-a-token' });
    await form({ Action: 'SetAlarmState', AlarmName: alarm.AlarmName, StateValue: 'OK', StateReason: 'drill over' });
    await form({ Action: 'SetAlarmState', AlarmName: 'gone', StateValue: 'OK', StateReason: 'x' });
    await cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: ['conformance-rate'] }));
    await failure(cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: ['conformance-rate'] })));
    cloudwatch.destroy();
  });

  it('has no member, type, enum, required field, timestamp or error code outside the model', () => {
    expect(sandbox.aws.calls.filter((c) => c.service === 'cloudwatch' && c.protocol === 'query').length).toBe(4);
    expect(violations('cloudwatch')).toEqual([]);
  });
});

describe('coverage', () => {
  it('drove every operation the emulators serve to a success, and each answer was recorded', () => {
    const served = [
      ...Object.keys(sandbox.ecr.definition().operations).map((op) => `ecr.${op}`),
      ...Object.keys(sandbox.apprunner.definition().operations).map((op) => `apprunner.${op}`),
      ...Object.keys(asg.definition().operations).map((op) => `autoscaling.${op}`),
      ...Object.keys(new Elbv2Emulator(asg).definition().operations).map((op) => `elbv2.${op}`),
      ...Object.keys(sandbox.ecs.definition().operations).map((op) => `ecs.${op}`),
      ...Object.keys(sandbox.cloudwatch.definitions()[0]!.operations).map((op) => `cloudwatch.${op}`),
    ];
    const succeeded = new Set(
      allCalls()
        .filter((c) => c.response && c.response.status < 300)
        .map((c) => `${c.service}.${c.operation}`),
    );
    expect(served.filter((op) => !succeeded.has(op))).toEqual([]);
    expect(allCalls().filter((c) => !c.response)).toEqual([]);
  });

  it('every known gap of the emulator is still there (remove an entry once it is fixed)', () => {
    for (const service of Object.keys(MODEL_OF)) violations(service);
    expect(EMULATOR_OUTSIDE_THE_MODEL.filter((gap) => !seenEmulatorGaps.has(gap.problem)).map((g) => g.why)).toEqual(
      [],
    );
  });

  it('drove an error answer of every operation that has a modelled error', () => {
    const erred = new Set(
      allCalls()
        .filter((c) => c.response && c.response.status >= 400)
        .map((c) => `${c.service}.${c.operation}`),
    );
    // GetAuthorizationToken and the ECR/App Runner set-up calls only fail on server faults AWS does not model.
    const exempt = new Set(['ecr.GetAuthorizationToken']);
    const missing = allCalls()
      .map((c) => `${c.service}.${c.operation}`)
      .filter((op, i, all) => all.indexOf(op) === i && !exempt.has(op) && !erred.has(op));
    expect(missing).toEqual([]);
  });
});
