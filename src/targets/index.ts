import type { AppRunnerSettings } from './apprunner/target';
import type { AsgSettings } from './asg/target';
import type { Target, TargetContext } from './target';

/**
 * The deploy platforms, and the only place that names their folders. Each folder's `target.ts` exports
 * `createTarget(settings, context)`; it is loaded when a step needs it, so that a step loads only its own platform's
 * SDK clients, and only after its inputs have been checked.
 */
export type TargetSpec = ({ kind: 'apprunner' } & AppRunnerSettings) | ({ kind: 'asg' } & AsgSettings);

export type TargetKind = TargetSpec['kind'];

type Loader<K extends TargetKind> = () => Promise<{
  createTarget(settings: Extract<TargetSpec, { kind: K }>, context: TargetContext): Target;
}>;

const platforms: { [K in TargetKind]: Loader<K> } = {
  apprunner: () => import(/* webpackMode: "eager" */ './apprunner/target'),
  asg: () => import(/* webpackMode: "eager" */ './asg/target'),
};

/** The platforms a `target` input may name. */
export const TARGET_KINDS = Object.keys(platforms) as TargetKind[];

export async function openTarget(spec: TargetSpec, context: TargetContext): Promise<Target> {
  const platform = await (platforms[spec.kind] as Loader<typeof spec.kind>)();
  return platform.createTarget(spec as never, context);
}
