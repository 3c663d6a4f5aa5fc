import type { Target, TargetContext } from '../target';
import type { EcsSettings } from './settings';

export function createTarget(_settings: EcsSettings, _context: TargetContext): Target {
  throw new Error('the ECS target is being written');
}
