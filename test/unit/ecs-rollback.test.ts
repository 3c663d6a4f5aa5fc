import {
  DescribeServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { DeployRecord } from '../../src/core/record';
import { createTarget, type EcsSettings } from '../../src/targets/ecs/target';
import type { ImageByDigest, Target, TargetDeployResult } from '../../src/targets/target';
import {
  awsError,
  context,
  deploymentArn,
  described,
  ecsMock,
  fakeEcs,
  image,
  NEW,
  OLD,
  record,
  resetMocks,
  TIMEOUT,
  td,
} from './ecs-fixture';

const settings: EcsSettings = { cluster: 'prod', service: 'web' };
const back: ImageByDigest = { uri: OLD, digest: `sha256:${'a'.repeat(64)}`, repository: 'web' };

beforeEach(resetMocks);

/** DescribeServiceDeployments: `before` until StopServiceDeployment, then ROLLBACK_IN_PROGRESS and `after`. */
function stoppable(before: string, after: string) {
  let stopped = 0;
  ecsMock.on(StopServiceDeploymentCommand).callsFake(() => {
    stopped = 1;
    return {};
  });
  ecsMock.on(DescribeServiceDeploymentsCommand).callsFake((input: { serviceDeploymentArns: string[] }) => {
    const status = stopped === 0 ? before : stopped++ === 1 ? 'ROLLBACK_IN_PROGRESS' : after;
    return { serviceDeployments: [{ serviceDeploymentArn: input.serviceDeploymentArns[0], status }] };
  });
}

async function deployed(t: Target, rec: DeployRecord, timeoutMs = TIMEOUT): Promise<TargetDeployResult> {
  return t.deploy(image, rec, timeoutMs);
}

/** A deploy that timed out with its deployment IN_PROGRESS, then rolled back; ECS's rollback ends `after`. */
async function rollBackTimedOut(after: string) {
  const ecsState = fakeEcs();
  stoppable('IN_PROGRESS', after);
  const t = createTarget(settings, context().ctx);
  const rec = record();
  const result = await deployed(t, rec, 60_000);
  expect(result.needsRollback).toBe(true);
  const failure = await t.rollback({
    image: back,
    record: rec,
    timeoutMs: TIMEOUT,
    reason: 'timed out',
    undoing: result,
  });
  return { ecsState, rec, failure };
}

describe('rolling back our own deployment', () => {
  it('while it is still IN_PROGRESS (the deploy timed out): StopServiceDeployment ROLLBACK, followed to ROLLBACK_SUCCESSFUL', async () => {
    const { ecsState, rec, failure } = await rollBackTimedOut('ROLLBACK_SUCCESSFUL');
    expect(failure).toBeUndefined();
    expect(ecsMock.commandCalls(StopServiceDeploymentCommand).map((c) => c.args[0].input)).toEqual([
      { serviceDeploymentArn: deploymentArn('dep-8'), stopType: 'ROLLBACK' },
    ]);
    expect(rec.outcome).toBe('rolled-back');
    expect(rec.operations).toEqual([
      { kind: 'service-deployment', id: deploymentArn('dep-8'), status: 'ROLLBACK_SUCCESSFUL' },
    ]);
    // ECS put the previous revision back itself: no UpdateService and no registration of ours.
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(1);
    expect(ecsState.registered).toHaveLength(1);
    expect(rec.phases.map((p) => [p.name, p.status])).toEqual([
      ['deploy', 'failed'],
      ['rollback', 'succeeded'],
    ]);
  });

  it("ECS's rollback ending ROLLBACK_FAILED is a failed rollback", async () => {
    const { rec, failure } = await rollBackTimedOut('ROLLBACK_FAILED');
    expect(failure?.message).toMatch(/ECS's rollback of .*dep-8 ended ROLLBACK_FAILED/);
    expect(rec.outcome).toBe('rollback-failed');
    expect(rec.error).toBe(failure?.message);
  });

  it('after it ended (SUCCESSFUL, our verification failed): UpdateService back to the previous revision, nothing registered', async () => {
    const ecsState = fakeEcs();
    const t = createTarget(settings, context().ctx);
    const rec = record();
    const result = await deployed(t, rec);
    expect(result.failure).toBeUndefined();

    const failure = await t.rollback({
      image: back,
      record: rec,
      timeoutMs: TIMEOUT,
      reason: 'verification failed',
      undoing: result,
    });

    expect(failure).toBeUndefined();
    expect(ecsState.registered).toHaveLength(1);
    expect(ecsMock.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input.taskDefinition)).toEqual([
      td(8),
      td(7),
    ]);
    expect(ecsMock.commandCalls(StopServiceDeploymentCommand)).toHaveLength(0);
    expect(ecsState.current).toBe(td(7));
    expect(rec.outcome).toBe('rolled-back');
    // The deployment back to web:7 is followed like any deploy (found by its revision's task definition).
    expect(rec.operations.map((o) => [o.id, o.status])).toEqual([
      [deploymentArn('dep-8'), 'SUCCESSFUL'],
      [deploymentArn('dep-7'), 'SUCCESSFUL'],
    ]);
  });

  it('a rollback whose UpdateService is denied says which IAM action, and is rollback-failed', async () => {
    fakeEcs();
    const t = createTarget(settings, context().ctx);
    const rec = record();
    const result = await deployed(t, rec);
    ecsMock.on(UpdateServiceCommand).rejects(awsError('AccessDeniedException'));
    const failure = await t.rollback({ image: back, record: rec, timeoutMs: TIMEOUT, reason: 'x', undoing: result });
    expect(failure?.message).toMatch(/needs ecs:UpdateService/);
    expect(rec.outcome).toBe('rollback-failed');
  });
});

describe('a manual rollback (the rollback action: nothing of this job to undo)', () => {
  it('registers a revision of what runs now with only the image changed, then UpdateService to it', async () => {
    const ecsState = fakeEcs({ definition: described(7, NEW) });
    // The deploy's container environment is not a rollback's to set.
    const t = createTarget({ ...settings, containerEnvironment: { MODE: 'canary' } }, context().ctx);
    const rec = record();
    const failure = await t.rollback({ image: back, record: rec, timeoutMs: TIMEOUT, reason: 'manual' });

    expect(failure).toBeUndefined();
    expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(1);
    // Exactly what ran (web:7 with NEW), with the image put back: environment and sidecar as they were.
    expect(ecsState.registered[0]?.containerDefinitions).toEqual(described(7, OLD).containerDefinitions);
    expect(ecsState.registered[0]?.tags).toEqual([{ key: 'team', value: 'payments' }]);
    expect(ecsMock.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input.taskDefinition)).toEqual([td(8)]);
    expect(rec.outcome).toBe('rolled-back');
  });

  it('ends rolled back only when the deployment back succeeds: ECS rolling that one back is rollback-failed', async () => {
    fakeEcs({ definition: described(7, NEW), looks: [{ status: 'ROLLBACK_SUCCESSFUL' }] });
    const rec = record();
    const failure = await createTarget(settings, context().ctx).rollback({
      image: back,
      record: rec,
      timeoutMs: TIMEOUT,
      reason: 'manual',
    });
    expect(failure?.message).toMatch(/ECS rolled the deployment of .* back to web:8 back/);
    expect(rec.outcome).toBe('rollback-failed');
  });
});
