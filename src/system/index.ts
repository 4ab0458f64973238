export { registerCpuSampler, type CpuSamplerOptions } from './cpu.ts';
export { parseNvidiaSmiComputeApps, slotServers, startVramSampler, type GpuServer, type VramSampler, type VramSamplerOptions } from './gpu.ts';
export { lowerThreadPriority, startTsWorker } from './ts-worker.ts';
export { syncDirectory, writeFileAtomic, writeFileSynced } from './atomic-file.ts';
export { PROJECT_ROOT } from './project-root.ts';
export { isSameProcess, processCpuMicros, processStart } from './process-identity.ts';
export { createWhole, FileLock, KeyedFileLocks, type LockOwner } from './lock.ts';
export { pollEvery } from './poll.ts';
