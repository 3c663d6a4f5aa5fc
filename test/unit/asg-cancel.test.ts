import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  type InstanceRefresh,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { BatchGetImageCommand, DescribeImagesCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { run } from '../../src/actions/refresh-asg/main';
import { post } from '../../src/actions/refresh-asg-post/main';
import type { ActionDeps } from '../../src/actions/runtime';
import { FakeClock } from '../../src/core/clock';
import { type CapturedLogger, captureLogger } from '../../src/core/logger';
import { type DeployRecord, newRecord, parseRecord, serializeRecord } from '../../src/core/record';
import type { BootTag } from '../../src/targets/asg/boot-tag';
import { AsgCancelledError, type AsgStarted, settleCancelled } from '../../src/targets/asg/cancel';
import { type AsgDeployOptions, deployAsg } from '../../src/targets/asg/deploy';
import { STATE } from '../../src/targets/asg/state';

const asgMock = mockClient(AutoScalingClient);
const ecrMock = mockClient(ECRClient);
const autoscaling = new AutoScalingClient({ region: 'us-east-1' });
const OLD = `sha256:${'1'.repeat(64)}`;
const NEW = `sha256:${'2'.repeat(64)}`;
const OTHER = `sha256:${'3'.repeat(64)}`;
const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

function fakeTag(initial: string | undefined = NEW, failMove = false): BootTag & { moves: string[] } {
  let current = initial;
  const moves: string[] = [];
  return {
    repository: 'web',
    tag: 'staging',
    moves,
    current: async () => current,
    moveTo: async (digest) => {
      if (failMove) throw new Error('AccessDenied: ecr:PutImage');
      moves.push(digest);
      current = digest;
    },
  };
}

function settleDeps() {
  return { autoscaling, clock: new FakeClock(), logger: captureLogger() };
}

function started(extra: Partial<AsgStarted> = {}): AsgStarted {
  return {
    groupName: 'web-asg',
    region: 'us-east-1',
    refreshId: 'r-1',
    bootTag: fakeTag(),
    previousDigest: OLD,
    digest: NEW,
    cancelRefresh: true,
    minHealthyPercentage: 75,
    environment: 'staging',
    ...extra,
  };
}

/** Each look at refresh r-1 answers the next of `looks` (the last one repeats). */
function looks(...answers: InstanceRefresh[]): void {
  let i = 0;
  asgMock.on(DescribeInstanceRefreshesCommand).callsFake(() => ({
    InstanceRefreshes: [{ InstanceRefreshId: 'r-1', ...answers[Math.min(i++, answers.length - 1)] }],
  }));
}

/** web-asg, 2 instances on ELB health checks, where StartInstanceRefresh answers r-1. */
function aGroupThatStarts(): void {
  asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'web-asg',
        LaunchTemplate: { LaunchTemplateId: 'lt-0123', LaunchTemplateName: 'web', Version: '3' },
        DesiredCapacity: 2,
        MinSize: 2,
        MaxSize: 4,
        Instances: [],
        AvailabilityZones: [],
        DefaultCooldown: 300,
        HealthCheckType: 'ELB',
        CreatedTime: new Date(),
      },
    ],
  });
  asgMock.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
}

const REFRESH_COMMAND =
  'aws autoscaling start-instance-refresh --region us-east-1 --auto-scaling-group-name web-asg --preferences \'{"MinHealthyPercentage":75}\'';
const ROLLBACK_COMMAND =
  'npx aws-deploy-kit rollback --target asg --asg-name web-asg --repository web --boot-tag staging --environment staging --region us-east-1';

beforeEach(() => {
  asgMock.reset();
  ecrMock.reset();
});

describe('settleCancelled', () => {
  it('cancels the running refresh, moves the boot tag back, and says what runs now and how to finish', async () => {
    looks(
      { Status: 'InProgress', PercentageComplete: 50, InstancesToUpdate: 2 },
      { Status: 'Cancelling', PercentageComplete: 50 },
      { Status: 'Cancelled', PercentageComplete: 50, StatusReason: 'Cancelled due to user request.' },
    );
    asgMock.on(CancelInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
    const tag = fakeTag();
    const settled = await settleCancelled(settleDeps(), started({ bootTag: tag }));

    expect(asgMock.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(1);
    expect(tag.moves).toEqual([OLD]);
    expect(settled).toMatchObject({ state: 'cancelled', bootTag: 'restored', finish: REFRESH_COMMAND });
    expect(settled.refresh?.status).toBe('Cancelled');
    expect(settled.runsNow).toEqual([
      'instance refresh r-1: Cancelled, 50% complete: Cancelled due to user request. (cancelled by this run)',
      `instances of web-asg: those the refresh replaced (50% complete) run the new image ${NEW}, the others the previous one`,
      `boot tag web:staging: ${OLD} (the previous image, moved back)`,
    ]);
    expect(settled.summary).toBe(
      'cancelled instance refresh r-1 of web-asg (it was InProgress, 50% complete, 2 instances left). Instances ' +
        `already replaced keep the new configuration. Moved web:staging back to ${OLD}, so instances launched from ` +
        `now on pull the previous image. To finish the rollback, run: ${REFRESH_COMMAND}`,
    );
  });

  it('looks only briefly for the cancel to land: a refresh stuck in Cancelling is reported as it is', async () => {
    looks({ Status: 'InProgress', PercentageComplete: 25 }, { Status: 'Cancelling', PercentageComplete: 25 });
    asgMock.on(CancelInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
    const settled = await settleCancelled(settleDeps(), started());
    expect(settled.refresh?.status).toBe('Cancelling');
    expect(settled.runsNow[0]).toBe('instance refresh r-1: Cancelling, 25% complete (cancelled by this run)');
    // The short look (2 s from 250 ms delays) is a handful of requests, not a wait for the end.
    expect(asgMock.commandCalls(DescribeInstanceRefreshesCommand).length).toBeLessThanOrEqual(8);
  });

  it('does not cancel twice: a refresh already Cancelling only gets its boot tag moved back', async () => {
    looks({ Status: 'Cancelling', PercentageComplete: 25 }, { Status: 'Cancelled', PercentageComplete: 25 });
    const tag = fakeTag();
    const settled = await settleCancelled(settleDeps(), started({ bootTag: tag }));
    expect(asgMock.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
    expect(tag.moves).toEqual([OLD]);
    expect(settled).toMatchObject({ state: 'cancelled', bootTag: 'restored', finish: REFRESH_COMMAND });
  });

  it('cancel-on-abort false: leaves the refresh running and the boot tag on the new image; the rollback finishes', async () => {
    looks({ Status: 'InProgress', PercentageComplete: 25 });
    const tag = fakeTag();
    const settled = await settleCancelled(settleDeps(), started({ bootTag: tag, cancelRefresh: false }));
    expect(asgMock.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
    expect(tag.moves).toEqual([]);
    expect(settled).toMatchObject({ state: 'running', bootTag: 'left-new', finish: ROLLBACK_COMMAND });
    expect(settled.summary).toMatch(
      /^left instance refresh r-1 of web-asg running \(InProgress, 25% complete\): cancel-on-abort is false/,
    );
  });

  it('a refresh that completed keeps its boot tag: every instance runs the new image', async () => {
    looks({ Status: 'Successful', PercentageComplete: 100 });
    const tag = fakeTag();
    const settled = await settleCancelled(settleDeps(), started({ bootTag: tag }));
    expect(asgMock.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
    expect(tag.moves).toEqual([]);
    expect(settled).toMatchObject({ state: 'completed', bootTag: 'left-new', finish: ROLLBACK_COMMAND });
    expect(settled.runsNow[1]).toBe(`instances of web-asg: every one runs the new image ${NEW} (not verified)`);
  });

  it('leaves a boot tag someone else moved meanwhile', async () => {
    looks({ Status: 'InProgress' }, { Status: 'Cancelled' });
    asgMock.on(CancelInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
    const tag = fakeTag(OTHER);
    const settled = await settleCancelled(settleDeps(), started({ bootTag: tag }));
    expect(tag.moves).toEqual([]);
    expect(settled.bootTag).toBe('moved-elsewhere');
    expect(settled.finish).toBeUndefined();
    expect(settled.runsNow).toContain(`boot tag web:staging: ${OTHER} (moved by someone else)`);
  });

  it('says so when the boot tag cannot be moved back, and the rollback action is what finishes', async () => {
    looks({ Status: 'InProgress' }, { Status: 'Cancelled' });
    asgMock.on(CancelInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
    const settled = await settleCancelled(settleDeps(), started({ bootTag: fakeTag(NEW, true) }));
    expect(settled).toMatchObject({ state: 'cancelled', bootTag: 'failed', finish: ROLLBACK_COMMAND });
    expect(settled.summary).toContain(
      `web:staging still points at the new image ${NEW}: moving it back to ${OLD} failed (AccessDenied: ecr:PutImage).`,
    );
  });

  it('a cancel before the refresh started: only the boot tag goes back, and nothing is left to finish', async () => {
    const tag = fakeTag();
    const { refreshId: _none, ...beforeStart } = started({ bootTag: tag });
    const settled = await settleCancelled(settleDeps(), beforeStart);
    expect(asgMock.calls()).toHaveLength(0);
    expect(tag.moves).toEqual([OLD]);
    expect(settled).toMatchObject({ state: 'none', bootTag: 'restored' });
    expect(settled.finish).toBeUndefined();
    expect(settled.runsNow[0]).toBe('Auto Scaling group web-asg: unchanged, no instance refresh was started');
  });

  it('when cancelling fails, says the refresh may still run and how to cancel it by hand', async () => {
    looks({ Status: 'InProgress', PercentageComplete: 10 });
    asgMock.on(CancelInstanceRefreshCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const tag = fakeTag();
    const settled = await settleCancelled(settleDeps(), started({ bootTag: tag }));
    expect(settled).toMatchObject({ state: 'running', bootTag: 'left-new', finish: ROLLBACK_COMMAND });
    expect(tag.moves).toEqual([]);
    expect(settled.summary).toMatch(
      /cancelling instance refresh r-1 of web-asg failed \(.*Rate exceeded \(Throttling\)\): it may still be running \(InProgress, 10% complete\)\. Cancel it with: aws autoscaling cancel-instance-refresh --region us-east-1 --auto-scaling-group-name web-asg\./,
    );
  });
});

describe('deployAsg when the job is cancelled', () => {
  function options(tag: BootTag, extra: Partial<AsgDeployOptions> = {}): AsgDeployOptions {
    return {
      groupName: 'web-asg',
      bootTag: tag,
      digest: NEW,
      preferences: { minHealthyPercentage: 50 },
      onBusy: 'wait',
      wait: true,
      timeoutMs: 30 * 60_000,
      cancelOnAbort: true,
      region: 'us-east-1',
      environment: 'staging',
      ...extra,
    };
  }

  beforeEach(() => {
    aGroupThatStarts();
  });

  it('while waiting for another refresh: starts nothing and moves nothing', async () => {
    const controller = new AbortController();
    asgMock.on(DescribeInstanceRefreshesCommand).callsFake(() => {
      controller.abort(new Error('The job was cancelled (SIGINT).'));
      return { InstanceRefreshes: [{ InstanceRefreshId: 'r-0', Status: 'InProgress' }] };
    });
    const tag = fakeTag(OLD);
    const logger = captureLogger();
    const error = await deployAsg(
      { autoscaling, clock: new FakeClock(), logger, signal: controller.signal },
      options(tag),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AsgCancelledError);
    expect((error as AsgCancelledError).settled).toMatchObject({ state: 'none', bootTag: 'not-moved' });
    expect((error as Error).message).toBe(
      'The job was cancelled: No instance refresh of web-asg was started, so no instance was replaced.',
    );
    expect(tag.moves).toEqual([]);
    expect(asgMock.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
    expect(asgMock.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
  });

  it('while the boot tag moves: does not start the refresh, and moves the tag back', async () => {
    const controller = new AbortController();
    asgMock.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] });
    const tag = fakeTag(OLD);
    const move = tag.moveTo;
    tag.moveTo = async (digest, o) => {
      await move(digest, o);
      if (digest === NEW) controller.abort(new Error('The job was cancelled (SIGINT).'));
    };
    const error = await deployAsg(
      { autoscaling, clock: new FakeClock(), logger: captureLogger(), signal: controller.signal },
      options(tag),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AsgCancelledError);
    expect(asgMock.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
    expect(tag.moves).toEqual([NEW, OLD]);
    expect((error as AsgCancelledError).settled).toMatchObject({ state: 'none', bootTag: 'restored' });
    expect((error as AsgCancelledError).settled.finish).toBeUndefined();
  });
});

// ---- the actions: refresh-asg's main step and its post step ----

/** An ECR repository `web` whose tags the fake keeps: DescribeImages reads them, PutImage moves them. */
function fakeRepository(tags: Record<string, string>) {
  ecrMock.on(DescribeImagesCommand).callsFake((input: { imageIds: { imageTag?: string; imageDigest?: string }[] }) => {
    const id = input.imageIds[0]!;
    const digest = id.imageDigest ?? tags[id.imageTag ?? ''];
    if (!digest) throw Object.assign(new Error('not found'), { name: 'ImageNotFoundException' });
    return { imageDetails: [{ imageDigest: digest, imageTags: [] }] };
  });
  ecrMock.on(BatchGetImageCommand).callsFake((input: { imageIds: { imageDigest?: string }[] }) => ({
    images: [
      {
        imageId: { imageDigest: input.imageIds[0]!.imageDigest },
        imageManifest: '{"schemaVersion":2}',
        imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      },
    ],
  }));
  ecrMock.on(PutImageCommand).callsFake((input: { imageTag: string; imageDigest: string }) => {
    tags[input.imageTag] = input.imageDigest;
    return { image: {} };
  });
  return tags;
}

interface FakeAction extends ActionDeps {
  outputs: Record<string, string>;
  state: Record<string, string>;
  summaries: string[];
  logger: CapturedLogger;
}

function action(inputs: Record<string, string>, state: Record<string, string> = {}, signal?: AbortSignal): FakeAction {
  const outputs: Record<string, string> = {};
  const summaries: string[] = [];
  return {
    outputs,
    state,
    summaries,
    getInput: (name) => inputs[name] ?? '',
    setOutput: (name, value) => {
      outputs[name] = value;
    },
    setSecret: () => undefined,
    logger: captureLogger(),
    env: { GITHUB_SHA: SHA },
    clock: new FakeClock(),
    signal: signal ?? new AbortController().signal,
    writeSummary: async (markdown) => {
      summaries.push(markdown);
    },
    saveState: (name, value) => {
      state[name] = value;
    },
    getState: (name) => state[name] ?? '',
  };
}

const inputs = {
  'asg-name': 'web-asg',
  image: `${REGISTRY}/web@${NEW}`,
  'boot-tag': 'staging',
  region: 'us-east-1',
  'min-healthy-percentage': '75',
  record: serializeRecord(newRecord(SHA, { environment: 'staging' })),
};

describe('refresh-asg cancelled mid-refresh (SIGINT)', () => {
  it('records outcome cancelled with what runs now, prints the command, and leaves the post step nothing to do', async () => {
    const tags = fakeRepository({ staging: OLD });
    aGroupThatStarts();
    const controller = new AbortController();
    let cancelled = false;
    let look = 0;
    asgMock.on(DescribeInstanceRefreshesCommand).callsFake((input: { InstanceRefreshIds?: string[] }) => {
      if (!input.InstanceRefreshIds) return { InstanceRefreshes: [] };
      if (++look === 2) controller.abort(new Error('The job was cancelled (SIGINT).'));
      const status = cancelled ? 'Cancelled' : 'InProgress';
      return { InstanceRefreshes: [{ InstanceRefreshId: 'r-1', Status: status, PercentageComplete: 50 }] };
    });
    asgMock.on(CancelInstanceRefreshCommand).callsFake(() => {
      cancelled = true;
      return { InstanceRefreshId: 'r-1' };
    });
    const deps = action(inputs, {}, controller.signal);

    await expect(run(deps, { autoscaling, ecr: new ECRClient({ region: 'us-east-1' }) })).rejects.toThrow(
      /^The job was cancelled: cancelled instance refresh r-1 of web-asg \(it was InProgress, 50% complete\)/,
    );
    expect(tags.staging).toBe(OLD);
    const record = parseRecord('record', deps.outputs.record!) as DeployRecord;
    expect(record).toMatchObject({
      outcome: 'cancelled',
      environment: 'staging',
      previous: { digest: OLD },
      operations: [{ kind: 'instance-refresh', id: 'r-1', status: 'Cancelled' }],
      cancellation: {
        runsNow: [
          'instance refresh r-1: Cancelled, 50% complete (cancelled by this run)',
          `instances of web-asg: those the refresh replaced (50% complete) run the new image ${NEW}, the others the previous one`,
          `boot tag web:staging: ${OLD} (the previous image, moved back)`,
        ],
        finish: REFRESH_COMMAND,
      },
    });
    expect(record.error).toContain(`To finish the rollback, run: ${REFRESH_COMMAND}`);
    expect(record.phases[0]).toMatchObject({ name: 'deploy', status: 'failed' });
    expect(record.phases[0]?.detail).toMatch(/^cancelled: instance refresh r-1: Cancelled/);
    expect(deps.outputs.status).toBe('Cancelled');
    expect(deps.logger.lines).toContain(`warning: To finish the rollback, run: ${REFRESH_COMMAND}`);
    expect(deps.summaries.join('\n')).toContain(`\`\`\`sh\n${REFRESH_COMMAND}\n\`\`\``);
    expect(deps.state).toMatchObject({
      [STATE.refreshId]: 'r-1',
      [STATE.repository]: 'web',
      [STATE.bootTag]: 'staging',
      [STATE.digest]: NEW,
      [STATE.previousDigest]: OLD,
      [STATE.bootTagMoved]: 'true',
      [STATE.region]: 'us-east-1',
      [STATE.environment]: 'staging',
      [STATE.settled]: 'true',
    });

    // The post step runs next, as on a runner: settled, so it makes no call.
    asgMock.resetHistory();
    ecrMock.resetHistory();
    await post(action({}, deps.state), { autoscaling, ecr: new ECRClient({ region: 'us-east-1' }) });
    expect(asgMock.calls()).toHaveLength(0);
    expect(ecrMock.calls()).toHaveLength(0);
  });
});

describe('refresh-asg-post after a main step killed outright (SIGKILL)', () => {
  const killedState = {
    [STATE.asgName]: 'web-asg',
    [STATE.region]: 'us-east-1',
    [STATE.cancelOnAbort]: 'true',
    [STATE.minHealthy]: '75',
    [STATE.environment]: 'staging',
    [STATE.repository]: 'web',
    [STATE.bootTag]: 'staging',
    [STATE.digest]: NEW,
    [STATE.previousDigest]: OLD,
    [STATE.bootTagMoved]: 'true',
    [STATE.refreshId]: 'r-1',
  };

  it('cancels the refresh, moves the boot tag back, and writes the command in the log and the summary', async () => {
    const tags = fakeRepository({ staging: NEW });
    looks({ Status: 'InProgress', PercentageComplete: 50 }, { Status: 'Cancelled', PercentageComplete: 50 });
    asgMock.on(CancelInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
    const deps = action({}, { ...killedState });
    await post(deps, { autoscaling, ecr: new ECRClient({ region: 'us-east-1' }) });

    expect(asgMock.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(1);
    expect(tags.staging).toBe(OLD);
    const log = deps.logger.lines.join('\n');
    expect(log).toContain(
      'warning: The refresh-asg step ended early: cancelled instance refresh r-1 of web-asg (it was InProgress, 50% complete).',
    );
    expect(log).toContain(`Moved web:staging back to ${OLD}`);
    expect(log).toContain(`To finish the rollback, run: ${REFRESH_COMMAND}`);
    expect(deps.summaries[0]).toContain('### Auto Scaling refresh of web-asg: cancelled');
    expect(deps.summaries[0]).toContain(`- boot tag web:staging: ${OLD} (the previous image, moved back)`);
    expect(deps.state[STATE.settled]).toBe('true');
  });

  it('moves the boot tag back when the step died between moving it and starting the refresh', async () => {
    const tags = fakeRepository({ staging: NEW });
    const { [STATE.refreshId]: _started, ...state } = killedState;
    const deps = action({}, state);
    await post(deps, { autoscaling, ecr: new ECRClient({ region: 'us-east-1' }) });
    expect(asgMock.calls()).toHaveLength(0);
    expect(tags.staging).toBe(OLD);
    expect(deps.logger.lines.join('\n')).toContain(
      'The refresh-asg step ended early: No instance refresh of web-asg was started, so no instance was replaced.',
    );
  });

  it('does nothing when the main step never moved a tag nor started a refresh', async () => {
    const deps = action({}, { [STATE.asgName]: 'web-asg', [STATE.region]: 'us-east-1' });
    await post(deps, { autoscaling, ecr: new ECRClient({ region: 'us-east-1' }) });
    expect(asgMock.calls()).toHaveLength(0);
    expect(ecrMock.calls()).toHaveLength(0);
    expect(deps.logger.lines).toEqual([]);
  });
});
