import { parseBakeInputs } from '../../src/actions/bake-step';
import type { AlarmSelector, AlarmState } from '../../src/aws/cloudwatch';
import { FakeClock } from '../../src/core/clock';
import { ConfigurationError } from '../../src/core/errors';
import { inputParser } from '../../src/core/input';
import { captureLogger } from '../../src/core/logger';
import { newRecord } from '../../src/core/record';
import { alarmBaseline, BakeAlarmError, bake, parseAlarmSelector } from '../../src/deploy/bake';
import { renderSummary } from '../../src/github/render';

const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

/** CloudWatch as a script: what DescribeAlarms answers at each look (the last answer repeats). */
function alarms(...looks: AlarmState[][]) {
  let at = 0;
  const seen: AlarmSelector[] = [];
  return {
    seen,
    describe: async (selector: AlarmSelector) => {
      seen.push(selector);
      return looks[Math.min(at++, looks.length - 1)]!;
    },
  };
}
const ok = (name: string): AlarmState => ({ name, state: 'OK', reason: 'fine' });
const red = (name: string, reason = 'Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0).') => ({
  name,
  state: 'ALARM',
  reason,
  updatedAt: new Date('2026-12-04T10:00:30Z'),
});

describe('alarms and bake-time inputs', () => {
  const parse = (values: Record<string, string>, timeoutMinutes = 30) =>
    parseBakeInputs(
      inputParser((name) => values[name] ?? ''),
      timeoutMinutes,
    );

  it('reads names and prefixes, without repeats', () => {
    expect(parse({ alarms: 'web-5xx\nweb-*\nweb-5xx', 'bake-time': '300' })).toEqual({
      alarms: { names: ['web-5xx'], prefixes: ['web-'] },
      bakeSeconds: 300,
    });
    expect(parse({})).toEqual({ alarms: { names: [], prefixes: [] }, bakeSeconds: 0 });
  });

  it('refuses a bake without alarms, one past timeout-minutes, and a malformed alarm entry', () => {
    expect(() => parse({ 'bake-time': '60' })).toThrow(/Input 'alarms' is required.*bake-time 0/);
    expect(() => parse({ alarms: 'a', 'bake-time': '1900' }, 30)).toThrow(
      /Input 'bake-time' has an invalid value "1900": expected at most timeout-minutes × 60 = 1800 seconds/,
    );
    expect(() => parse({ alarms: 'a', 'bake-time': 'soon' })).toThrow(ConfigurationError);
    expect(() => parseAlarmSelector('alarms', ['we*b'])).toThrow(/Input 'alarms' has an invalid value "we\*b"/);
    expect(() => parseAlarmSelector('alarms', ['*'])).toThrow(ConfigurationError);
    expect(() => parseAlarmSelector('alarms', ['x'.repeat(256)])).toThrow(/1-255 characters/);
  });
});

describe('alarmBaseline', () => {
  it('refuses a named alarm that does not exist: a bake watching nothing would pass every time', async () => {
    const cw = alarms([ok('web-5xx')]);
    const context = { clock: new FakeClock(), logger: captureLogger(), describe: cw.describe };
    await expect(alarmBaseline(context, { names: ['web-5xx', 'web-latency'], prefixes: [] })).rejects.toThrow(
      'The CloudWatch alarm web-latency named in alarms does not exist in this account and region',
    );
  });

  it('says which alarms are already in ALARM, and warns of a prefix that matches nothing', async () => {
    const cw = alarms([ok('web-5xx'), red('queue-depth')]);
    const logger = captureLogger();
    const baseline = await alarmBaseline(
      { clock: new FakeClock(), logger, describe: cw.describe },
      { names: ['web-5xx', 'queue-depth'], prefixes: ['api-'] },
    );
    expect(baseline.alreadyInAlarm).toEqual(['queue-depth']);
    expect(logger.lines.join('\n')).toContain(
      'warning: Already in ALARM before this deploy, so not held against it: queue-depth',
    );
    expect(logger.lines.join('\n')).toContain('warning: No CloudWatch alarm name starts with "api-"');
  });

  it('wraps a DescribeAlarms failure with the IAM action it needs', async () => {
    const denied = Object.assign(new Error('not authorized to perform: cloudwatch:DescribeAlarms'), {
      name: 'AccessDenied',
    });
    const context = {
      clock: new FakeClock(),
      logger: captureLogger(),
      describe: async () => {
        throw denied;
      },
    };
    await expect(alarmBaseline(context, { names: ['a'], prefixes: [] })).rejects.toThrow(
      /Could not read the CloudWatch alarms a before the deploy: .*cloudwatch:DescribeAlarms.*Nothing was deployed/,
    );
  });
});

describe('bake', () => {
  const selector = { names: ['web-5xx', 'queue-depth'], prefixes: [] };

  it('passes when no alarm goes into ALARM for the whole bake, looking every tenth of it', async () => {
    const clock = new FakeClock(Date.parse('2026-12-04T10:00:00Z'));
    const cw = alarms([ok('web-5xx'), ok('queue-depth')]);
    const logger = captureLogger();
    const record = newRecord(sha);
    await bake({ clock, logger, describe: cw.describe }, record, { selector, states: [], alreadyInAlarm: [] }, 300);
    expect(clock.now() - Date.parse('2026-12-04T10:00:00Z')).toBe(300_000);
    // An immediate look, then one every 10 s (a tenth of 300 s is 30 s, capped at 10 s).
    expect(cw.seen).toHaveLength(31);
    expect(record.phases).toEqual([expect.objectContaining({ name: 'bake', status: 'succeeded' })]);
    expect(record.bake).toEqual({
      seconds: 300,
      alarms: [
        { name: 'web-5xx', state: 'OK' },
        { name: 'queue-depth', state: 'OK' },
      ],
      alreadyInAlarm: [],
    });
    expect(logger.lines.join('\n')).toContain('bake: 5 min left; web-5xx OK, queue-depth OK');
    expect(renderSummary(record, { now: clock.now() })).toContain(
      '✅ passed: 5m watching `web-5xx` OK, `queue-depth` OK',
    );
  });

  it('fails with the alarm, its reason and when it fired; an alarm red before the deploy does not count', async () => {
    const clock = new FakeClock(Date.parse('2026-12-04T10:00:00Z'));
    const cw = alarms(
      [ok('web-5xx'), red('queue-depth')],
      [ok('web-5xx'), red('queue-depth')],
      [red('web-5xx'), red('queue-depth')],
    );
    const record = newRecord(sha);
    const error = await bake(
      { clock, logger: captureLogger(), describe: cw.describe },
      record,
      { selector, states: [], alreadyInAlarm: ['queue-depth'] },
      120,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BakeAlarmError);
    expect((error as Error).message).toBe(
      'The CloudWatch alarm web-5xx went into ALARM during the bake at 2026-12-04T10:00:30.000Z: Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0).',
    );
    expect(record.bake?.fired).toEqual({
      name: 'web-5xx',
      reason: 'Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0).',
      at: '2026-12-04T10:00:30.000Z',
    });
    expect(record.bake?.alreadyInAlarm).toEqual(['queue-depth']);
    expect(record.phases).toEqual([expect.objectContaining({ name: 'bake', status: 'failed' })]);
    expect(renderSummary(record, { now: clock.now() })).toContain(
      '🚨 `web-5xx` went into ALARM at 2026-12-04T10:00:30.000Z',
    );
  });

  it('stops at once when the job is cancelled, without calling the bake failed by an alarm', async () => {
    const controller = new AbortController();
    const cw = alarms([ok('web-5xx')]);
    const clock = new FakeClock();
    const record = newRecord(sha);
    const looking = bake(
      {
        clock: {
          now: () => clock.now(),
          sleep: async (ms, signal) => {
            controller.abort(new Error('The job was cancelled (SIGINT).'));
            return clock.sleep(ms, signal);
          },
        },
        logger: captureLogger(),
        signal: controller.signal,
        describe: cw.describe,
      },
      record,
      { selector, states: [], alreadyInAlarm: [] },
      600,
    );
    await expect(looking).rejects.toThrow('The job was cancelled (SIGINT).');
    expect(record.bake?.fired).toBeUndefined();
  });
});

describe('deploy-apprunner', () => {
  it('refuses a bake with wait false: the step would end before there is a version to watch', async () => {
    const { parseDeployAppRunnerInputs } = await import('../../src/actions/deploy-apprunner/inputs');
    const values: Record<string, string> = {
      'service-arn': 'arn:aws:apprunner:us-east-1:123456789012:service/web/0123456789abcdef0123456789abcdef',
      image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:${'a'.repeat(64)}`,
      alarms: 'web-5xx',
      'bake-time': '60',
      wait: 'false',
    };
    expect(() => parseDeployAppRunnerInputs((name) => values[name] ?? '', { GITHUB_SHA: sha })).toThrow(
      `Input 'bake-time' has an invalid value "60": expected 0 when wait is false (a bake watches the deployed version).`,
    );
    values.wait = 'true';
    expect(parseDeployAppRunnerInputs((name) => values[name] ?? '', { GITHUB_SHA: sha }).bake).toEqual({
      alarms: { names: ['web-5xx'], prefixes: [] },
      bakeSeconds: 60,
    });
  });
});
