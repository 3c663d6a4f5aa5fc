// npm run demo: the pipeline against the local sandbox, on a machine with no AWS account.
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import { docker } from '../test/sandbox/docker';
import { startSandbox } from '../test/sandbox/index';
import { sampleAppContext } from '../test/sandbox/sample-app';

// tsx runs this under the machine's node (20 on some): the SDK's warning that 2027 releases need Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function say(message: string): void {
  console.log(`\n▶ ${message}`);
}

async function main(): Promise<void> {
  say('Starting the sandbox (registry, podman engine, AWS emulator)');
  const sandbox = await startSandbox();
  const stop = async () => {
    await sandbox.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    Object.assign(process.env, sandbox.aws.clientEnv());
    const ecr = new ECRClient({});
    console.log(`  registry ${sandbox.registry.host}, AWS emulator ${sandbox.aws.endpoint}`);

    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'demo/web' }));
    say('Logging in with ECR GetAuthorizationToken (emulated)');
    const auth = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0];
    const [, password = ''] = Buffer.from(auth?.authorizationToken ?? '', 'base64')
      .toString()
      .split(':');
    const registry = new URL(auth?.proxyEndpoint ?? '').host;
    await docker(['login', '--username', 'AWS', '--password-stdin', registry], sandbox.env(), password);

    const version = 'v1';
    const image = `${registry}/demo/web:${version}`;
    say(`Building the sample app ${version} with the docker CLI (podman engine)`);
    await docker(
      ['build', '--tag', image, '--build-arg', `VERSION=${version}`, await sampleAppContext()],
      sandbox.env(),
    );
    say(`Pushing ${image}`);
    await docker(['push', image], sandbox.env());

    const detail = (
      await ecr.send(new DescribeImagesCommand({ repositoryName: 'demo/web', imageIds: [{ imageTag: version }] }))
    ).imageDetails?.[0];
    if (!detail?.imageDigest) throw new Error('DescribeImages did not report the pushed image');
    say('Pushed, as ECR DescribeImages reports it:');
    console.log(`  image   ${registry}/demo/web@${detail.imageDigest}`);
    console.log(`  digest  ${detail.imageDigest}`);
    console.log(`  tags    ${(detail.imageTags ?? []).join(', ')}`);
    console.log(
      `  size    ${((detail.imageSizeInBytes ?? 0) / 1024).toFixed(0)} KiB, pushed ${detail.imagePushedAt?.toISOString()}`,
    );
    ecr.destroy();
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(`\n✖ demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
