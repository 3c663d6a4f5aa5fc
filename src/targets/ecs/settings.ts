/** What the inputs say about an ECS target: the shapes the deploy-ecs action and the all-in-one action parse into. */

/**
 * What a deploy does when the service already has a deployment in progress: wait for it to end, fail before
 * changing anything, or stop it (StopServiceDeployment ROLLBACK; never a rollback that is already running).
 */
export type EcsOnBusy = 'wait' | 'fail' | 'stop';

/** A task definition read from a file of the repository (render-task-definition style), checked by the parser. */
export interface TaskDefinitionFile {
  /** As given, relative to the workspace: for messages. */
  path: string;
  /** The parsed JSON: at least `family` and `containerDefinitions`. */
  json: Record<string, unknown>;
}

/** An ECS service on the ECS deployment controller. */
export interface EcsSettings {
  /** Cluster name or ARN; AWS's default cluster is "default". */
  cluster: string;
  /** Service name or ARN. */
  service: string;
  /** The container whose image is replaced; undefined: the only essential container. */
  container?: string;
  /** Start from this task definition instead of the service's current one. */
  taskDefinitionFile?: TaskDefinitionFile;
  /** Environment variables set on the container (added, or replacing those of the same name). */
  containerEnvironment?: Record<string, string>;
  /** Default `wait`. */
  onBusy?: EcsOnBusy;
  /** Stop (with rollback) the deployment this step started when the job is cancelled; default true. */
  cancelOnAbort?: boolean;
  /**
   * CloudWatch alarm names (`alarms`) added to the service's own deployment alarms, with enable and rollback on: ECS
   * then watches them during its rollout and rolls back by itself.
   */
  deploymentAlarms?: string[];
}

/** An ECS Express Mode service: its primary container's image is replaced, everything else kept. */
export interface EcsExpressSettings {
  serviceArn: string;
  /** Environment variables set on the primary container. */
  containerEnvironment?: Record<string, string>;
  /** Default `wait`. */
  onBusy?: EcsOnBusy;
  /** Default true. */
  cancelOnAbort?: boolean;
}
