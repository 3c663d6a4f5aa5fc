import type { Target, TargetContext } from '../target';
import type { EcsExpressSettings } from './settings';

export function createTarget(_settings: EcsExpressSettings, _context: TargetContext): Target {
  throw new Error('the ECS Express target is being written');
}
