import type { ECRClient } from '@aws-sdk/client-ecr';
import { findImage, promoteImage } from '../../aws/ecr';
import type { Logger } from '../../core/logger';

/** The tag the instances' user data pulls at boot, e.g. `web:latest`. */
export interface BootTag {
  repository: string;
  tag: string;
  /** The digest the tag points at now; undefined when it names nothing. */
  current(options?: { abortSignal?: AbortSignal }): Promise<string | undefined>;
  moveTo(digest: string, options?: { abortSignal?: AbortSignal }): Promise<void>;
}

/** A boot tag in ECR, moved by retag (BatchGetImage → PutImage): no layer moves, no rebuild. */
export function ecrBootTag(client: ECRClient, repository: string, tag: string, logger: Logger): BootTag {
  return {
    repository,
    tag,
    current: async (options = {}) => (await findImage(client, repository, tag, options))?.digest,
    moveTo: async (digest, options = {}) => {
      await promoteImage(client, { repository, source: digest, tags: [tag], logger, ...options });
    },
  };
}
