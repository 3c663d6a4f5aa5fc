import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBuildPushInputs } from '../../src/actions/build-push/inputs';
import { ConfigurationError } from '../../src/core/errors';
import {
  commitContextFromEnv,
  commitFromTags,
  commitOf,
  commitOfTag,
  commitTag,
  imageTags,
  isCommitTag,
} from '../../src/core/tags';

const PUSH_SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const MERGE_SHA = 'ffffffffffffffffffffffffffffffffffffffff';
const HEAD_SHA = '0123456789abcdef0123456789abcdef01234567';

const dir = mkdtempSync(join(tmpdir(), 'adk-tags-'));
function eventFile(payload: unknown): string {
  const file = join(dir, `event-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(payload));
  return file;
}
const prEvent = eventFile({ pull_request: { number: 7, head: { sha: HEAD_SHA } } });

describe('the tags of a build, by the event that triggered it', () => {
  it.each([
    {
      event: 'push to a branch',
      env: { GITHUB_EVENT_NAME: 'push', GITHUB_SHA: PUSH_SHA, GITHUB_REF: 'refs/heads/main' },
      extra: '',
      expected: [`sha-${PUSH_SHA}`],
    },
    {
      event: 'pull_request (the PR head, not the merge commit GitHub made up)',
      env: { GITHUB_EVENT_NAME: 'pull_request', GITHUB_SHA: MERGE_SHA, GITHUB_EVENT_PATH: prEvent },
      extra: 'pr-7',
      expected: [`sha-${HEAD_SHA}`, 'pr-7'],
    },
    {
      event: 'pull_request_target',
      env: { GITHUB_EVENT_NAME: 'pull_request_target', GITHUB_SHA: MERGE_SHA, GITHUB_EVENT_PATH: prEvent },
      extra: '',
      expected: [`sha-${HEAD_SHA}`],
    },
    {
      event: 'push of a tag ref',
      env: { GITHUB_EVENT_NAME: 'push', GITHUB_SHA: PUSH_SHA, GITHUB_REF: 'refs/tags/v1.2.3' },
      extra: 'v1.2.3\nlatest',
      expected: [`sha-${PUSH_SHA}`, 'v1.2.3', 'latest'],
    },
    {
      event: 'workflow_dispatch',
      env: { GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_SHA: PUSH_SHA.toUpperCase() },
      extra: 'manual, manual',
      expected: [`sha-${PUSH_SHA}`, 'manual'],
    },
  ])('$event', ({ env, extra, expected }) => {
    const inputs = parseBuildPushInputs(
      (name) => ({ repository: 'web', region: 'us-east-1', tags: extra })[name] ?? '',
      env,
      dir,
    );
    expect(inputs.tags).toEqual(expected);
    expect(inputs.commit).toBe(expected[0]!.slice(4));
  });

  it('uses GITHUB_SHA when a pull_request payload has no head SHA', () => {
    const context = commitContextFromEnv({
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_SHA: MERGE_SHA,
      GITHUB_EVENT_PATH: eventFile({}),
    });
    expect(commitOf(context)).toBe(MERGE_SHA);
  });

  it('never reads the event payload of other events', () => {
    const context = commitContextFromEnv({
      GITHUB_EVENT_NAME: 'push',
      GITHUB_SHA: PUSH_SHA,
      GITHUB_EVENT_PATH: prEvent,
    });
    expect(commitOf(context)).toBe(PUSH_SHA);
  });

  it.each([
    ['-leading-dash', 'starts with -'],
    ['.hidden', 'starts with .'],
    ['has space', 'a space'],
    ['a'.repeat(129), '129 characters'],
    ['feature/x', 'a slash'],
  ])('rejects the extra tag %j (%s) naming the input and what is accepted', (tag) => {
    const error = (() => {
      try {
        imageTags(PUSH_SHA, [tag]);
      } catch (e) {
        return e;
      }
    })() as ConfigurationError;
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.input).toBe('tags');
    expect(error.message).toContain(JSON.stringify(tag));
    expect(error.message).toContain('1-128 characters from A-Z a-z 0-9 _ . -');
  });

  it('rejects a run without a usable commit SHA', () => {
    expect(() => commitOf({ eventName: 'push', sha: 'not-a-sha' })).toThrow(/GITHUB_SHA.*git commit SHA/);
  });
});

describe('the sha-<commit> tag, written and read back', () => {
  it('reads the commit of a sha- tag of 7 to 40 hex digits, and nothing else', () => {
    expect(commitOfTag(commitTag(PUSH_SHA))).toBe(PUSH_SHA);
    expect(commitOfTag('sha-a1b2c3d')).toBe('a1b2c3d');
    expect(commitOfTag('sha-a1b2c3')).toBeUndefined();
    expect(commitOfTag('sha-A1B2C3D4')).toBeUndefined();
    expect(commitOfTag('sha256:abcdef0')).toBeUndefined();
    expect(isCommitTag('staging')).toBe(false);
  });

  it('prefers the full commit when an image has both a short and a full sha- tag', () => {
    expect(commitFromTags(['sha-a1b2c3d', `sha-${PUSH_SHA}`, 'staging'])).toBe(PUSH_SHA);
    expect(commitFromTags(['latest', 'sha-a1b2c3d'])).toBe('a1b2c3d');
    expect(commitFromTags(['latest'])).toBeUndefined();
  });
});
