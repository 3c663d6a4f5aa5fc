/** The ECS control-plane emulator: see sandbox/emulator/ecs/ (state, core engine, views, Express Mode). */
export * from './ecs/index';
