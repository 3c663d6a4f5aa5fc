/**
 * The ECR lifecycle policy that goes with the cleanup: AWS's own daily expiry, written so that it can never expire a
 * rollback target. A lifecycle rule cannot say "keep"; every rule expires. What protects an image is ECR's rule
 * order: rules are evaluated by rulePriority, lowest first, and an image that matches the tag selection of a rule is
 * never expired by a rule of a higher priority number. So the pointer tags get rules of their own that claim those
 * images and expire only beyond a count no repository reaches, and the expiring rules come after them.
 *
 * Two ECR details shape the rules: a tagPatternList with several patterns selects only images carrying a tag for
 * EVERY pattern (so `deployed-*` and `previous-*` need a rule each, one rule with both would protect almost
 * nothing), and a rule with tagStatus `any` must have the highest priority (it is not used here: tagged images that
 * are not pointers are left to the cleanup action, which knows the deployment history; the policy cannot).
 */

/** More images than any repository holds: ECR's quota is 20,000 images per repository, adjustable; we never expire. */
export const NEVER = 99_999;

export interface LifecycleRule {
  rulePriority: number;
  description: string;
  selection: {
    tagStatus: 'tagged' | 'untagged' | 'any';
    tagPatternList?: string[];
    countType: 'imageCountMoreThan' | 'sinceImagePushed';
    countUnit?: 'days';
    countNumber: number;
  };
  action: { type: 'expire' };
}

export interface LifecyclePolicy {
  rules: LifecycleRule[];
}

function protect(priority: number, pattern: string, why: string): LifecycleRule {
  return {
    rulePriority: priority,
    description: `aws-deploy-kit: never expire ${why} (${pattern})`,
    selection: { tagStatus: 'tagged', tagPatternList: [pattern], countType: 'imageCountMoreThan', countNumber: NEVER },
    action: { type: 'expire' },
  };
}

/**
 * Pointer tags, build cache (unless the cleanup may delete it) and the tags of keep-tags are claimed by never-expiring
 * rules; untagged images expire `untaggedDays` after their push. A tagPatternList pattern takes at most 4 wildcards,
 * so each keep-tags pattern is its own rule.
 */
export function lifecyclePolicyFor(options: {
  untaggedDays: number;
  keepTags: readonly string[];
  includeBuildCache: boolean;
}): LifecyclePolicy {
  const rules: LifecycleRule[] = [
    protect(1, 'deployed-*', 'what an environment runs'),
    protect(2, 'previous-*', 'the rollback target of an environment'),
  ];
  if (!options.includeBuildCache) rules.push(protect(rules.length + 1, 'buildcache*', 'the build cache'));
  for (const tag of options.keepTags) rules.push(protect(rules.length + 1, tag, 'a tag named in keep-tags'));
  rules.push({
    rulePriority: 100,
    description: `aws-deploy-kit: expire untagged images ${options.untaggedDays} days after their push`,
    selection: {
      tagStatus: 'untagged',
      countType: 'sinceImagePushed',
      countUnit: 'days',
      countNumber: options.untaggedDays,
    },
    action: { type: 'expire' },
  });
  return { rules };
}
