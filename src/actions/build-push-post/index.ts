import { runAction } from '../runtime';
import { post } from './main';

void runAction(post);
