import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execute, parseHealthCheckStepInputs } from '../../src/actions/health-check/main';
import type { ActionDeps } from '../../src/actions/runtime';
import { systemClock } from '../../src/core/clock';
import { ConfigurationError } from '../../src/core/errors';
import { captureLogger } from '../../src/core/logger';
import { type DeployRecord, newRecord, serializeRecord } from '../../src/core/record';

let server: Server;
let base: string;
let status = 200;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.statusCode = status;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://user:secret@127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

function deps(inputs: Record<string, string>, outputs: Record<string, string>): ActionDeps {
  return {
    getInput: (name) => inputs[name] ?? '',
    setOutput: (name, value) => {
      outputs[name] = value;
    },
    setSecret: () => undefined,
    logger: captureLogger(),
    env: {},
    clock: systemClock,
    signal: new AbortController().signal,
    writeSummary: async () => undefined,
    saveState: () => undefined,
    getState: () => '',
  };
}

async function check(inputs: Record<string, string>) {
  const outputs: Record<string, string> = {};
  const d = deps(
    { 'interval-seconds': '0.1', 'consecutive-successes': '2', 'timeout-minutes': '0.02', ...inputs },
    outputs,
  );
  const step = await execute(d, parseHealthCheckStepInputs(d.getInput));
  return { step, outputs, record: outputs.record ? (JSON.parse(outputs.record) as DeployRecord) : undefined };
}

describe('health-check with a record', () => {
  it('adds a verify phase and the health found (attempts counted, URL without credentials) to the record', async () => {
    status = 200;
    const given = newRecord('a'.repeat(40), { environment: 'staging' });
    const { step, record } = await check({ url: `${base}/health`, record: serializeRecord(given) });
    expect(step.error).toBeUndefined();
    expect(record?.phases.map((p) => [p.name, p.status])).toEqual([['verify', 'succeeded']]);
    expect(record?.health).toMatchObject({ healthy: true, attempts: 2, lastStatus: 200 });
    expect(record?.health?.url).not.toContain('secret');
  });

  it('records a failed check with its real attempt count and outcome failed', async () => {
    status = 503;
    const { step, outputs, record } = await check({
      url: `${base}/health`,
      record: serializeRecord(newRecord('b'.repeat(40))),
    });
    expect(step.error).toBeDefined();
    expect(record?.outcome).toBe('failed');
    expect(record?.health?.healthy).toBe(false);
    expect(record?.health?.attempts).toBe(Number(outputs.attempts));
    expect(record?.health?.attempts).toBeGreaterThan(0);
    expect(record?.phases.at(-1)).toMatchObject({ name: 'verify', status: 'failed' });
  });

  it('outputs no record when none was given, and refuses a malformed one before probing', async () => {
    status = 200;
    const { outputs } = await check({ url: `${base}/health` });
    expect(outputs.record).toBeUndefined();
    expect(outputs.healthy).toBe('true');
    expect(() => parseHealthCheckStepInputs((name) => ({ url: `${base}/x`, record: '{nope' })[name] ?? '')).toThrow(
      ConfigurationError,
    );
  });
});
