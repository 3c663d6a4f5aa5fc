export type { GitHubFaultKind, GitHubFaultSpec, GitHubRoute } from './faults';
export { GitHubEmulator, type GitHubRequest, type PermissionLevel, type TokenPermissions } from './server';
export type { DeploymentState, RepoState, StoredComment, StoredDeployment, StoredPull, StoredStatus } from './state';

import { GitHubEmulator } from './server';

/** Starts a GitHub emulator on its own loopback port (for tests that need nothing else of the sandbox). */
export async function startGitHubEmulator(): Promise<GitHubEmulator> {
  const github = new GitHubEmulator();
  await github.start();
  return github;
}
