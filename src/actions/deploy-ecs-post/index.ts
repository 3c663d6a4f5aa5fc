import { post } from '../pipeline-post/main';
import { runAction } from '../runtime';

// deploy-ecs's post step is the all-in-one action's: both save the platform they deployed to under POST_STATE.
void runAction(post);
