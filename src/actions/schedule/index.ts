import { runAction } from '../runtime';
import { run } from './main';

void runAction(run);
