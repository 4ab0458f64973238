export { FormulationEnv, MAX_MATERIALS, PYRAMID_TARGET, STEPS, type Formula, type Position, type RewardBreakdown } from './environment.ts';
export { Mlp, softmax } from './mlp.ts';
export { Random } from './random.ts';
export { ReinforceTrainer, ReturnAverages, type TrainProgress } from './reinforce.ts';
export { TRAINING_BRIEFS } from './briefs.ts';
export { PpoTrainer, type PpoOptions } from './ppo.ts';
export { distill, evaluatePolicy, greedyReturn, inferenceMicros, kl, type DistillResult, type Evaluation } from './distill.ts';
export { CheckpointMetaSchema, configHash, decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint, type CheckpointMeta } from './checkpoint.ts';
export { HybridLoop, type HybridMode, type HybridOptions } from './hybrid.ts';
