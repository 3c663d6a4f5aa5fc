import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../../sandbox/paths';
import { checkRepository, localTarget } from '../../scripts/workflow-rules';

function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'adk-wf-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const action = `name: promote
description: Retag an image
inputs:
  repository:
    description: ECR repository
    required: true
  tags:
    description: Target tags
    required: true
  region:
    description: AWS region
    required: false
runs:
  using: node24
  main: ../../dist/promote/index.js
`;

describe('workflow rules', () => {
  it('maps uses: of our published name and local paths to files of this repository', () => {
    expect(localTarget('aws-deploy-kit/aws-deploy-kit@v1')).toEqual({ kind: 'action', path: 'action.yml' });
    expect(localTarget('aws-deploy-kit/aws-deploy-kit/actions/rollback@v1')).toEqual({
      kind: 'action',
      path: 'actions/rollback/action.yml',
    });
    expect(localTarget('aws-deploy-kit/aws-deploy-kit/.github/workflows/deploy.yml@v1')).toEqual({
      kind: 'workflow',
      path: '.github/workflows/deploy.yml',
    });
    expect(localTarget('./actions/promote')).toEqual({ kind: 'action', path: 'actions/promote/action.yml' });
    expect(localTarget('actions/checkout@v4')).toBeUndefined();
  });

  it('reports an unknown with: key, a missing required input, an unpinned action and an untrusted expression in run:', () => {
    const root = repo({
      'actions/promote/action.yml': action,
      'dist/promote/index.js': '',
      '.github/workflows/release.yml': `on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "\${{ github.event.head_commit.message }}"
      - uses: ./actions/promote
        with:
          repository: web
          tag: staging
`,
    });
    const problems = checkRepository(root);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("input 'tag' is not an input of actions/promote/action.yml"),
        expect.stringContaining("required input 'tags' of actions/promote/action.yml is not passed"),
        expect.stringContaining('actions/checkout@v4 must be pinned by a full commit SHA'),
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
        expect.stringContaining('expands ${{ github.event.head_commit.message }} inside run'),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('checks calls of reusable workflows against their workflow_call inputs and secrets', () => {
    const root = repo({
      '.github/workflows/deploy.yml': `on:
  workflow_call:
    inputs:
      environment: { required: true, type: string }
      region: { required: false, type: string, default: us-east-1 }
    secrets:
      token: { required: false }
jobs: {}
`,
      'docs/workflows.md': '## .github/workflows/deploy.yml\n`environment` `region` `token`\n',
      'workflows/deploy-staging.yml': `on: push
jobs:
  deploy:
    uses: aws-deploy-kit/aws-deploy-kit/.github/workflows/deploy.yml@v1
    with:
      regoin: eu-west-1
    secrets:
      password: x
`,
    });
    expect(checkRepository(root)).toEqual([
      expect.stringContaining("input 'regoin' is not an input of .github/workflows/deploy.yml"),
      expect.stringContaining("required input 'environment'"),
      expect.stringContaining("passes secret 'password'"),
    ]);
  });

  it('holds action.yml files to node24 and an existing bundle', () => {
    const root = repo({ 'actions/promote/action.yml': action.replace('node24', 'node20') });
    expect(checkRepository(root)).toEqual([
      'actions/promote/action.yml: runs.using is "node20", expected node24',
      'actions/promote/action.yml: runs.main ../../dist/promote/index.js does not exist (npm run bundle)',
    ]);
  });

  it('holds a reusable workflow to every input (same default) and output of the action it wraps, and to its doc', () => {
    const root = repo({
      'actions/promote/action.yml': `${action}outputs:\n  image:\n    description: The image\n  digest:\n    description: Its digest\n`,
      'dist/promote/index.js': '',
      '.github/workflows/promote.yml': `on:
  workflow_call:
    inputs:
      repository: { required: true, type: string }
      region: { type: string, default: us-east-1 }
    outputs:
      image: { value: "\${{ jobs.promote.outputs.image }}" }
jobs:
  promote:
    runs-on: ubuntu-latest
    outputs:
      image: \${{ steps.promote.outputs.image }}
    steps:
      - id: promote
        uses: ./actions/promote
        with:
          repository: \${{ inputs.repository }}
          region: \${{ inputs.region }}
`,
      'docs/workflows.md': '## .github/workflows/promote.yml\n`repository` and `image`\n',
    });
    expect(checkRepository(root)).toEqual([
      expect.stringContaining("required input 'tags' of actions/promote/action.yml is not passed"),
      expect.stringContaining(
        "workflow input 'region' defaults to 'us-east-1', but actions/promote/action.yml defaults to ''",
      ),
      expect.stringContaining("output 'digest' of actions/promote/action.yml is not a job output"),
      expect.stringContaining("output 'digest' of actions/promote/action.yml is not a workflow output"),
      'docs/workflows.md: the section of .github/workflows/promote.yml does not list its input `region`',
    ]);
  });

  it("fails the repository's own deploy workflow as soon as action.yml gains an input it does not carry", () => {
    const files: Record<string, string> = {};
    for (const path of ['action.yml', '.github/workflows/deploy.yml', 'docs/workflows.md'])
      files[path] = readFileSync(join(repoRoot(), path), 'utf8');
    const root = repo(files);
    for (const bundle of ['pipeline', 'pipeline-post']) {
      mkdirSync(join(root, 'dist', bundle), { recursive: true });
      writeFileSync(join(root, 'dist', bundle, 'index.js'), '');
    }
    // As it is, the deploy workflow carries everything.
    expect(checkRepository(root)).toEqual([]);
    writeFileSync(
      join(root, 'action.yml'),
      files['action.yml']!.replace(
        /^inputs:\n/m,
        'inputs:\n  new-input:\n    description: A new input\n    default: x\n',
      ),
    );
    expect(checkRepository(root)).toEqual([
      expect.stringContaining(
        "input 'new-input' of action.yml is not passed: declare a workflow input 'new-input' (default 'x')",
      ),
    ]);
  });
});
