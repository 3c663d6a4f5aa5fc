import { cell } from '../../src/core/markdown';
import { type DeployRecord, newRecord } from '../../src/core/record';
import {
  displayPhase,
  progressLine,
  type RenderContext,
  renderComment,
  renderGantt,
  renderSummary,
  safeUrl,
} from '../../src/github/render';

const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const previousSha = '0f1e2d3c4b5a69788796a5b4c3d2e1f001234567';
const digest = `sha256:${'ab'.repeat(32)}`;
const previousDigest = `sha256:${'cd'.repeat(32)}`;
const t0 = Date.parse('2025-03-04T10:00:00.000Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();

const context: RenderContext = {
  serverUrl: 'https://github.com',
  repository: 'octo-org/web',
  runUrl: 'https://github.com/octo-org/web/actions/runs/4242',
  now: t0 + 300_000,
};

function baseRecord(): DeployRecord {
  return newRecord(sha, {
    environment: 'staging',
    image: {
      repository: 'web',
      registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/web@${digest}`,
      digest,
      tags: ['sha-a1b2c3d', 'staging'],
      reused: false,
    },
    target: {
      kind: 'apprunner',
      resource: 'App Runner service',
      id: 'arn:aws:apprunner:us-east-1:123456789012:service/web/0123456789abcdef',
      url: 'https://abc123.us-east-1.awsapprunner.com',
    },
    previous: { commit: previousSha, digest: previousDigest },
    operations: [{ kind: 'apprunner-operation', id: 'op-1', status: 'SUCCEEDED' }],
  });
}

function succeeded(): DeployRecord {
  const record = baseRecord();
  record.phases = [
    { name: 'build', status: 'succeeded', startedAt: at(0), endedAt: at(62) },
    { name: 'deploy', status: 'succeeded', startedAt: at(62), endedAt: at(252) },
    { name: 'verify', status: 'succeeded', startedAt: at(252), endedAt: at(272) },
  ];
  record.health = {
    url: 'https://abc123.us-east-1.awsapprunner.com/health',
    healthy: true,
    attempts: 3,
    lastStatus: 200,
  };
  record.outcome = 'succeeded';
  return record;
}

function rolledBack(): DeployRecord {
  const record = baseRecord();
  record.phases = [
    { name: 'build', status: 'skipped', startedAt: at(0), endedAt: at(0), detail: 'image already pushed' },
    { name: 'deploy', status: 'succeeded', startedAt: at(0), endedAt: at(180) },
    { name: 'verify', status: 'failed', startedAt: at(180), endedAt: at(240), detail: 'HTTP 500 from /health' },
    { name: 'rollback', status: 'succeeded', startedAt: at(240), endedAt: at(290) },
  ];
  record.image!.reused = true;
  record.health = {
    url: 'https://abc123.us-east-1.awsapprunner.com/health',
    healthy: false,
    attempts: 12,
    lastStatus: 500,
    detail: 'body did not match /ok/',
  };
  record.outcome = 'rolled-back';
  record.error = 'The new version never became healthy: HTTP 500 from /health';
  return record;
}

function failed(): DeployRecord {
  const record = baseRecord();
  record.target = { kind: 'asg', id: 'web-asg', resource: 'Auto Scaling group' };
  record.previous = {};
  record.phases = [
    { name: 'build', status: 'succeeded', startedAt: at(0), endedAt: at(45) },
    {
      name: 'deploy',
      status: 'failed',
      startedAt: at(45),
      endedAt: at(100),
      detail: 'Could not start the instance refresh of web-asg: | pipes\nand <b>html</b>',
    },
  ];
  record.outcome = 'failed';
  record.error = 'Could not start the instance refresh of web-asg: InstanceRefreshInProgress';
  return record;
}

describe('rendered markdown (snapshots)', () => {
  it.each([
    ['succeeded', succeeded],
    ['rolled-back', rolledBack],
    ['failed', failed],
  ])('renders the comment and the summary of a %s deploy', (_name, make) => {
    expect(renderComment(make(), context)).toMatchSnapshot('comment');
    expect(renderSummary(make(), context)).toMatchSnapshot('summary');
  });
});

describe('displayPhase and progressLine', () => {
  it('follows a deploy through building → deploying → verifying → live', () => {
    const record = baseRecord();
    expect(displayPhase(record)).toBe('building');
    record.phases.push({ name: 'build', status: 'running', startedAt: at(0) });
    expect(displayPhase(record)).toBe('building');
    record.phases[0]!.status = 'succeeded';
    expect(displayPhase(record)).toBe('deploying');
    record.phases.push({ name: 'deploy', status: 'succeeded', startedAt: at(10), endedAt: at(20) });
    expect(displayPhase(record)).toBe('verifying');
    record.phases.push({ name: 'verify', status: 'running', startedAt: at(20) });
    expect(progressLine(record)).toBe('building ✓ → deploying ✓ → **verifying** → live');
    record.outcome = 'succeeded';
    expect(progressLine(record)).toBe('building ✓ → deploying ✓ → verifying ✓ → **live**');
  });

  it('stops the line at the failed step, and shows a rollback', () => {
    expect(progressLine(failed())).toBe('building ✓ → **deploying ✗**');
    expect(progressLine(rolledBack())).toBe(
      'building ✓ → deploying ✓ → verifying ✗ → rolling back ✓ → **rolled back**',
    );
    const rollbackFailed = rolledBack();
    rollbackFailed.outcome = 'rollback-failed';
    rollbackFailed.phases[3]!.status = 'failed';
    expect(progressLine(rollbackFailed)).toBe('building ✓ → deploying ✓ → verifying ✗ → **rolling back ✗**');
  });
});

describe('safety of the rendered text', () => {
  it('keeps table cells one line and free of HTML', () => {
    expect(cell('a | b\n<script>')).toBe('a \\| b<br>&lt;script&gt;');
  });

  it('drops credentials and non-http schemes from URLs', () => {
    expect(safeUrl('https://user:secret@example.com/x')).toBe('https://example.com/x');
    expect(safeUrl('javascript:alert(1)')).toBeUndefined();
    const record = succeeded();
    record.target!.url = 'https://admin:hunter2@web.example.com';
    expect(renderComment(record, context)).not.toContain('hunter2');
  });

  it('draws a running phase up to now, and keeps colons out of Mermaid task names', () => {
    const record = baseRecord();
    record.phases.push({ name: 'deploy', status: 'running', startedAt: at(0) });
    const gantt = renderGantt(record, { ...context, now: t0 + 90_000 })!;
    expect(gantt).toContain(`deploy 1m30s :active, p0, ${t0}, ${t0 + 90_000}`);
    expect(renderGantt(baseRecord(), context)).toBeUndefined();
  });
});

describe('progress line of a deploy that skipped a step', () => {
  it('marks a step that never ran with – rather than ✓', () => {
    const record = newRecord('a'.repeat(40), { environment: 'staging', outcome: 'rolled-back' });
    record.phases = [
      {
        name: 'build',
        status: 'succeeded',
        startedAt: '2026-11-22T10:00:00.000Z',
        endedAt: '2026-11-22T10:01:00.000Z',
      },
      { name: 'deploy', status: 'failed', startedAt: '2026-11-22T10:01:00.000Z', endedAt: '2026-11-22T10:05:00.000Z' },
      {
        name: 'rollback',
        status: 'succeeded',
        startedAt: '2026-11-22T10:05:00.000Z',
        endedAt: '2026-11-22T10:09:00.000Z',
      },
    ];
    expect(progressLine(record)).toBe('building ✓ → deploying ✗ → verifying – → rolling back ✓ → **rolled back**');
  });
});

describe('a cancelled deploy', () => {
  const finish =
    'aws autoscaling start-instance-refresh --region us-east-1 --auto-scaling-group-name web-asg --preferences \'{"MinHealthyPercentage":90}\'';
  function cancelled(): DeployRecord {
    const record = baseRecord();
    record.target = { kind: 'asg', id: 'web-asg' };
    record.phases = [
      { name: 'build', status: 'succeeded', startedAt: at(0), endedAt: at(62) },
      { name: 'deploy', status: 'failed', startedAt: at(62), endedAt: at(120), detail: 'cancelled: …' },
    ];
    record.outcome = 'cancelled';
    record.error =
      'The job was cancelled: cancelled instance refresh r-1 of web-asg (it was InProgress, 50% complete).';
    record.cancellation = {
      runsNow: [
        'instance refresh r-1: Cancelled, 50% complete (cancelled by this run)',
        `boot tag web:staging: ${previousDigest} (the previous image, moved back)`,
      ],
      finish,
    };
    return record;
  }

  it('says cancelled, what runs now and the command that finishes the rollback, in the comment and the summary', () => {
    const record = cancelled();
    expect(displayPhase(record)).toBe('cancelled');
    expect(progressLine(record)).toBe('building ✓ → **deploying ⏹️ cancelled**');
    for (const text of [renderComment(record, context), renderSummary(record, context)]) {
      expect(text).toContain('staging: ⏹️ cancelled');
      expect(text).toContain(
        '| **Runs now** | instance refresh r-1: Cancelled, 50% complete (cancelled by this run)<br>boot tag ' +
          `web:staging: ${previousDigest} (the previous image, moved back) |`,
      );
      expect(text).toContain(`| **Roll back** | Finish the rollback: \`${finish}\` |`);
      // The message says the same in sentences: not a third time.
      expect(text).not.toContain('| **Error** |');
    }
  });

  it('says nothing is left to roll back when the cancel undid everything', () => {
    const record = cancelled();
    record.cancellation = { runsNow: ['Auto Scaling group web-asg: unchanged, no instance refresh was started'] };
    expect(renderComment(record, context)).toContain(
      '| **Roll back** | Nothing left to roll back: the cancel put everything this deploy changed back. |',
    );
  });
});

describe('records of the ECS targets', () => {
  const deployment = 'arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/2f3b';
  function ecsRecord(kind: 'ecs' | 'ecs-express'): DeployRecord {
    const record = succeeded();
    record.target = {
      kind,
      resource: kind === 'ecs' ? 'ECS service' : 'ECS Express service',
      id: 'arn:aws:ecs:us-east-1:123456789012:service/prod/web',
      cluster: 'prod',
      revision: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:8',
      ...(kind === 'ecs-express' ? { url: 'https://web-1a2b.ecs.us-east-1.on.aws' } : {}),
    };
    record.previous = {
      commit: previousSha,
      digest: previousDigest,
      revision: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7',
    };
    record.operations = [{ kind: 'ecs-service-deployment', id: deployment, status: 'SUCCESSFUL' }];
    return record;
  }

  it.each([
    ['ecs', 'ECS service'],
    ['ecs-express', 'ECS Express service'],
  ] as const)(
    'renders a %s deploy: the service, its cluster, the service deployment and both revisions',
    (kind, resource) => {
      for (const text of [renderComment(ecsRecord(kind), context), renderSummary(ecsRecord(kind), context)]) {
        expect(text).toContain(
          `| **Target** | ${resource} \`arn:aws:ecs:us-east-1:123456789012:service/prod/web\` in cluster \`prod\` |`,
        );
        expect(text).toContain(`| **Operation** | ecs service deployment \`${deployment}\` SUCCESSFUL |`);
        expect(text).toContain(
          '| **Revision** | `arn:aws:ecs:us-east-1:123456789012:task-definition/web:8` (was ' +
            '`arn:aws:ecs:us-east-1:123456789012:task-definition/web:7`) |',
        );
      }
      expect(renderComment(ecsRecord('ecs-express'), context)).toContain('https://web-1a2b.ecs.us-east-1.on.aws');
    },
  );

  it('renders a record without revisions (a rollback record, an older record) without the row', () => {
    const record = ecsRecord('ecs');
    delete record.target?.revision;
    delete record.previous?.revision;
    expect(renderSummary(record, context)).not.toContain('**Revision**');
  });
});
