// npm run demo: the whole pipeline against the local sandbox, on a machine with no AWS or GitHub account. v1 and v2
// go to an App Runner service, a 3-instance Auto Scaling group, a 3-task ECS service and an ECS Express service, a
// broken v3 is rolled back automatically on each, then a manual rollback returns each to v1, and an ECR cleanup
// (a dry run, then the real one) keeps the rollback target; last, a v4 that passes its health check but answers 5xx
// to real traffic is rolled back by the bake's CloudWatch alarm. Every version the demo claims is checked against
// what the services serve.
// `npm run demo -- --verbose` also prints each action's own log.

import { startSandbox } from '../sandbox/index';
import { actionNode } from '../sandbox/run-bundle';
import { ClaimMismatch } from './demo/checks';
import { consolePrinter, detail, heading, seconds } from './demo/print';
import { printResult, runDemo } from './demo/run';

// tsx runs this under the machine's node (20 on some): the SDK's warning that 2027 releases need Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  const started = Date.now();
  const out = consolePrinter;
  heading(out, 'Starting the sandbox');
  const sandbox = await startSandbox();
  let stopping: Promise<void> | undefined;
  let interrupted: NodeJS.Signals | undefined;
  const stop = () => {
    stopping ??= sandbox.stop();
    return stopping;
  };
  // Ctrl-C or a kill: stop the registry, the engine and every running revision/instance before leaving.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = signal;
      console.error(`\n✖ ${signal}: stopping the sandbox`);
      void stop().finally(() => process.exit(signalExit(signal)));
    });
  }
  try {
    detail(
      out,
      `registry       https://${sandbox.registry.host} (docker-registry, TLS + basic auth: the ECR data plane)`,
    );
    detail(out, `image engine   ${sandbox.engine?.env.DOCKER_HOST ?? '(none)'} (podman, driven by the docker CLI)`);
    detail(out, `AWS emulator   ${sandbox.aws.endpoint} (ECR, App Runner, EC2 Auto Scaling, ELBv2, ECS, CloudWatch)`);
    detail(out, `GitHub API     ${sandbox.github.apiUrl} (deployments, pull requests, comments)`);
    detail(out, `actions run    under ${actionNode()}, as a GitHub runner runs them`);

    const result = await runDemo(sandbox, out, { verbose: process.argv.includes('--verbose') });
    printResult(out, result);
    heading(out, `Done in ${seconds(Date.now() - started)}: every claim above matched the running services.`);
    return 0;
  } catch (error) {
    // Interrupted: the failure is the sandbox going away under the running step, not worth reporting.
    if (interrupted) return signalExit(interrupted);
    const what = error instanceof ClaimMismatch ? 'a claim did not hold' : 'the demo broke';
    console.error(`\n✖ demo failed (${what}): ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    heading(out, 'Stopping the sandbox');
    await stop();
  }
}

function signalExit(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`\n✖ demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
