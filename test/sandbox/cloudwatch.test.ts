import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { CloudWatchEmulator } from '../../sandbox/emulator/cloudwatch';
import { LoadBalancer } from '../../sandbox/emulator/loadbalancer';
import { MetricStore, publishAlbAnswer } from '../../sandbox/emulator/metrics';
import { AwsEmulator } from '../../sandbox/emulator/server';
import { poll } from '../../src/core/poller';

// The CloudWatch emulator's alarms are computed from what the emulated load balancer really answered: a backend that
// answers 5xx to real requests puts an alarm on HTTPCode_Target_5XX_Count into ALARM within one period.

const SECOND_MS = 10; // one emulated 60-second period = 600 ms
let aws: AwsEmulator;
let cloudwatch: CloudWatchEmulator;
let client: CloudWatchClient;
let backend: Server;
let failing = false;
let lb: LoadBalancer;
const metrics = new MetricStore();

beforeAll(async () => {
  aws = new AwsEmulator();
  cloudwatch = new CloudWatchEmulator(metrics);
  cloudwatch.timing.secondMs = SECOND_MS;
  for (const definition of cloudwatch.definitions()) aws.register(definition);
  await aws.start();
  cloudwatch.start();
  backend = createServer((_req, res) => {
    res.writeHead(failing ? 500 : 200).end(failing ? 'boom' : 'ok');
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  lb = new LoadBalancer(() => [{ url }], {
    name: 'web',
    onAnswer: (answer) => publishAlbAnswer(metrics, { loadBalancer: lb.dimension }, answer),
  });
  await lb.start();
  client = new CloudWatchClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  cloudwatch.stop();
  await lb.stop();
  backend.close();
  await aws.stop();
});

async function traffic(requests: number): Promise<void> {
  for (let i = 0; i < requests; i++) await (await fetch(`${lb.url}/`)).text();
}

async function stateOf(name: string): Promise<string | undefined> {
  const { MetricAlarms } = await client.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
  return MetricAlarms?.[0]?.StateValue;
}

function until(name: string, state: string) {
  return poll({
    what: `${name} ${state}`,
    timeoutMs: 10_000,
    minDelayMs: 50,
    maxDelayMs: 50,
    check: async () => ((await stateOf(name)) === state ? { done: true, value: state } : { done: false }),
  });
}

it('goes to ALARM when the target really answers 5xx, and back to OK when it stops', async () => {
  await client.send(
    new PutMetricAlarmCommand({
      AlarmName: 'web-5xx',
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Dimensions: [{ Name: 'LoadBalancer', Value: lb.dimension }],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    }),
  );
  // A new alarm has no data yet; missing data is not breaching, so it settles on OK.
  await until('web-5xx', 'OK');
  failing = true;
  const started = Date.now();
  while (Date.now() - started < 60 * SECOND_MS * 1.5) await traffic(5);
  await until('web-5xx', 'ALARM');
  const { MetricAlarms } = await client.send(new DescribeAlarmsCommand({ AlarmNames: ['web-5xx'] }));
  expect(MetricAlarms?.[0]?.StateReason).toMatch(
    /^Threshold Crossed: 1 datapoint \[\d+\] was greater than the threshold \(2\)\./,
  );
  expect(MetricAlarms?.[0]?.StateUpdatedTimestamp).toBeInstanceOf(Date);
  failing = false;
  await until('web-5xx', 'OK');
});

it('computes a 5xx rate with metric math, FILL turning "no 5xx reported" into 0', async () => {
  const metric = (id: string, name: string) => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/ApplicationELB',
        MetricName: name,
        Dimensions: [{ Name: 'LoadBalancer', Value: lb.dimension }],
      },
      Period: 60,
      Stat: 'Sum' as const,
    },
    ReturnData: false,
  });
  await client.send(
    new PutMetricAlarmCommand({
      AlarmName: 'web-5xx-rate',
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: [
        { Id: 'rate', Expression: '100*FILL(m1,0)/m2', ReturnData: true },
        metric('m1', 'HTTPCode_Target_5XX_Count'),
        metric('m2', 'RequestCount'),
      ],
    }),
  );
  let started = Date.now();
  while (Date.now() - started < 60 * SECOND_MS * 1.5) await traffic(5);
  await until('web-5xx-rate', 'OK');
  failing = true;
  started = Date.now();
  while (Date.now() - started < 60 * SECOND_MS * 1.5) await traffic(5);
  await until('web-5xx-rate', 'ALARM');
  failing = false;
});

it('answers as CloudWatch does: INSUFFICIENT_DATA without data, SetAlarmState until the next period, AWS error codes', async () => {
  await client.send(
    new PutMetricAlarmCommand({
      AlarmName: 'quiet',
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Dimensions: [{ Name: 'LoadBalancer', Value: 'app/nobody/0000000000000000' }],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  expect(await stateOf('quiet')).toBe('INSUFFICIENT_DATA');
  await client.send(new SetAlarmStateCommand({ AlarmName: 'quiet', StateValue: 'ALARM', StateReason: 'drill' }));
  expect(await stateOf('quiet')).toBe('ALARM');
  // The next evaluation puts it back to what the data says.
  await until('quiet', 'INSUFFICIENT_DATA');

  const error = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (e: unknown) => e as { name: string },
    );
  await expect(
    error(client.send(new SetAlarmStateCommand({ AlarmName: 'gone', StateValue: 'OK', StateReason: '' }))),
  ).resolves.toMatchObject({
    name: 'ResourceNotFound',
  });
  await expect(
    error(client.send(new DescribeAlarmsCommand({ AlarmNames: ['quiet'], AlarmNamePrefix: 'q' }))),
  ).resolves.toMatchObject({
    // The SDK names the error by its modelled shape, from the awsQuery code in x-amzn-query-error.
    name: 'InvalidParameterCombinationException',
  });
  await expect(
    error(
      client.send(
        new PutMetricAlarmCommand({
          AlarmName: 'odd-period',
          Namespace: 'Mine',
          MetricName: 'x',
          Statistic: 'Sum',
          Period: 45,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanThreshold',
        }),
      ),
    ),
  ).resolves.toMatchObject({ name: 'InvalidParameterValueException' });
});

it('pages DescribeAlarms by MaxRecords and refuses a token it did not give', async () => {
  const first = await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'web-', MaxRecords: 1 }));
  expect(first.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['web-5xx']);
  const second = await client.send(
    new DescribeAlarmsCommand({ AlarmNamePrefix: 'web-', MaxRecords: 1, NextToken: first.NextToken }),
  );
  expect(second.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['web-5xx-rate']);
  expect(second.NextToken).toBeUndefined();
  await expect(client.send(new DescribeAlarmsCommand({ NextToken: 'forged' }))).rejects.toMatchObject({
    name: 'InvalidNextToken',
  });
});
