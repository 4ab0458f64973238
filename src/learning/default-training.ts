/** The shipped models' training run (`make train-default`): PPO episodes of the teacher, and the seed. Alone here so the CLI can show them without loading the learning code. */
export const DEFAULT_EPISODES = 16000;
export const DEFAULT_SEED = 7;
