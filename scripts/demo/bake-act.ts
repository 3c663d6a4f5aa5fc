// The demo's bake act: v4 passes /health and /version but answers 500 to most real requests. The all-in-one action
// deploys it to the ECS service with a bake while traffic flows; the CloudWatch alarm on the load balancer's 5xx
// count fires, and the deploy is rolled back. Every claim is checked against what the service serves.
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { targetFiveXxAlarm } from '../../sandbox/alarms';
import type { Sandbox } from '../../sandbox/index';
import { ClaimMismatch, checkEcs } from './checks';
import { detail, heading, type Printer, seconds, short } from './print';
import { type DemoWorld, ECS_CLUSTER, ECS_ENVIRONMENT, ECS_SERVICE, TASKS } from './setup';
import { deploy } from './steps';

export const BAKE_ALARM = 'web-5xx';
const BAKE_SECONDS = 20;

/** Sends requests to the service until `work` settles: the traffic a bake needs to see anything. */
async function withTraffic<T>(url: string, work: Promise<T>): Promise<{ value: T; requests: number; errors: number }> {
  let over = false;
  let requests = 0;
  let errors = 0;
  const driver = (async () => {
    while (!over) {
      const status = await fetch(`${url}/cgi-bin/api`).then(
        async (r) => {
          await r.text();
          return r.status;
        },
        () => 0,
      );
      requests++;
      if (status >= 500) errors++;
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    return { value: await work, requests, errors };
  } finally {
    over = true;
    await driver;
  }
}

/** Runs the act; returns the commit the ECS service serves afterwards (checked). */
export async function bakeAct(
  sandbox: Sandbox,
  world: DemoWorld,
  out: Printer,
  v4: string,
  servedBefore: string,
): Promise<{ outcome: string; served: string }> {
  heading(out, `Bake: creating the CloudWatch alarm ${BAKE_ALARM} on the ECS service's load balancer (PutMetricAlarm)`);
  const aws = sandbox.aws.clientEnv();
  const cloudwatch = new CloudWatchClient({
    region: 'us-east-1',
    endpoint: sandbox.aws.endpoint,
    credentials: { accessKeyId: aws.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: aws.AWS_SECRET_ACCESS_KEY ?? '' },
  });
  const { loadBalancer } = sandbox.ecs.metricDimensions(ECS_CLUSTER, ECS_SERVICE);
  try {
    await cloudwatch.send(new PutMetricAlarmCommand(targetFiveXxAlarm(BAKE_ALARM, loadBalancer)));
  } finally {
    cloudwatch.destroy();
  }
  detail(out, `alarm    ${BAKE_ALARM}: Sum of HTTPCode_Target_5XX_Count > 0 in a minute, LoadBalancer ${loadBalancer}`);

  heading(
    out,
    `v4 (5xx under traffic): deploying commit ${short(v4)} to the ECS service ${ECS_SERVICE} (${ECS_ENVIRONMENT}) with a ${BAKE_SECONDS} s bake`,
  );
  detail(out, 'build-args: ERRORS=80 (passes /health and /version, answers 500 to 80 % of /cgi-bin/api)');
  const started = Date.now();
  const {
    value: step,
    requests,
    errors,
  } = await withTraffic(
    world.ecsUrl,
    // A prefix: watched by the bake alone (the names would also go to the service's own deployment alarms, and ECS
    // might then catch v4 during its rollout, before the bake).
    deploy(sandbox, world, 'ecs', v4, ['ERRORS=80'], { alarms: `${BAKE_ALARM}*`, 'bake-time': String(BAKE_SECONDS) }),
  );
  const { run, record } = step;
  const fired = record?.bake?.fired;
  if (run.outputs.outcome !== 'rolled-back' || fired?.name !== BAKE_ALARM) {
    throw new ClaimMismatch(
      `v4: expected the bake's alarm ${BAKE_ALARM} to roll the deploy back, the action reported ${run.outputs.outcome} ` +
        `(fired: ${fired?.name ?? 'none'}): ${run.errors.join(' ')}`,
    );
  }
  const verified = record?.phases.find((p) => p.name === 'verify')?.status;
  if (verified !== 'succeeded') throw new ClaimMismatch(`v4: expected it to pass its verification, it ${verified}`);
  detail(out, `traffic  ${requests} requests to /cgi-bin/api during the deploy, ${errors} answered 5xx`);
  detail(out, `verify   passed: /health answers and /version serves ${short(v4)}`);
  detail(out, `bake     ${fired.name} went into ALARM at ${fired.at}: ${fired.reason}`);
  detail(out, `outcome  rolled-back: back on ${short(servedBefore)} (${seconds(Date.now() - started)})`);
  const claim = `v4: the action says the bake rolled it back to ${short(servedBefore)}`;
  detail(out, `checked ✓ ${await checkEcs(sandbox, ECS_CLUSTER, ECS_SERVICE, TASKS, servedBefore, claim)}`);
  return { outcome: run.outputs.outcome, served: servedBefore };
}
