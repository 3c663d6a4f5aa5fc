import { capabilities as apprunnerCapabilities } from './apprunner/capabilities';
import type { AppRunnerSettings } from './apprunner/target';
import { capabilities as asgCapabilities } from './asg/capabilities';
import type { AsgSettings } from './asg/target';
import { capabilities as ecsCapabilities } from './ecs/capabilities';
import type { EcsExpressSettings, EcsSettings } from './ecs/settings';
import type { AbandonedRun, PostStepDeps, Target, TargetCapabilities, TargetContext } from './target';

/**
 * The deploy platforms, and the only place that names their folders. Each folder's `target.ts` exports
 * `createTarget(settings, context)`; it is loaded when a step needs it, so that a step loads only its own platform's
 * SDK clients, and only after its inputs have been checked.
 */
export type TargetSpec =
  | ({ kind: 'apprunner' } & AppRunnerSettings)
  | ({ kind: 'asg' } & AsgSettings)
  | ({ kind: 'ecs' } & EcsSettings)
  | ({ kind: 'ecs-express' } & EcsExpressSettings);

export type TargetKind = TargetSpec['kind'];

type Loader<K extends TargetKind> = () => Promise<{
  createTarget(settings: Extract<TargetSpec, { kind: K }>, context: TargetContext): Target;
  /** A platform whose deploys can outlive a killed step finishes them in the post step. */
  settleAbandoned?: (deps: PostStepDeps) => Promise<AbandonedRun | undefined>;
}>;

const platforms: { [K in TargetKind]: Loader<K> } = {
  apprunner: () => import(/* webpackMode: "eager" */ './apprunner/target'),
  asg: () => import(/* webpackMode: "eager" */ './asg/target'),
  ecs: () => import(/* webpackMode: "eager" */ './ecs/target'),
  'ecs-express': () => import(/* webpackMode: "eager" */ './ecs/express-target'),
};

// Static, unlike the loaders: the inputs are checked against them before any platform module (and its SDK) loads.
const capabilities: { [K in TargetKind]: TargetCapabilities } = {
  apprunner: apprunnerCapabilities,
  asg: asgCapabilities,
  ecs: ecsCapabilities,
  'ecs-express': ecsCapabilities,
};

/** What the platform of `kind` can run (an image index or not), for checks made before anything is built. */
export function targetCapabilities(kind: TargetKind): TargetCapabilities {
  return capabilities[kind];
}

/** The platforms a `target` input may name. */
export const TARGET_KINDS = Object.keys(platforms) as TargetKind[];

/** What the all-in-one action's main step saves for its post step. */
export const POST_STATE = { targetKind: 'target-kind' } as const;

/**
 * The post step of a step that deployed to `kind` (read back from POST_STATE): lets the platform finish what a main
 * step killed outright left running. Undefined when there was nothing to do (or the main step did it).
 */
export async function settleAbandoned(kind: string, deps: PostStepDeps): Promise<AbandonedRun | undefined> {
  if (!Object.hasOwn(platforms, kind)) return undefined;
  const platform = await platforms[kind as TargetKind]();
  return platform.settleAbandoned?.(deps);
}

export async function openTarget(spec: TargetSpec, context: TargetContext): Promise<Target> {
  const platform = await (platforms[spec.kind] as Loader<typeof spec.kind>)();
  return platform.createTarget(spec as never, context);
}
