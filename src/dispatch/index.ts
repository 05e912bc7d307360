export { deadLetterTopic } from './dead-letter.js';
export {
  definePipeline,
  isPipeline,
  type AsyncPoolDefinition,
  type BatchOptions,
  type Pipeline,
  type PipelineDefinition,
  type PoolCommon,
  type PoolDefinition,
  type ProcessPoolDefinition,
  type RemotePoolDefinition,
  type ThreadPoolDefinition,
  type WorkerPoolDefinition,
} from './definition.js';
export { Dispatcher, type DispatcherState, type DrainResult } from './dispatcher.js';
export type { DispatcherOptions } from './options.js';
export { isRetriable, type RetryPolicy } from './retry.js';
export { backoffDelay } from '../util/retry.js';
export type { BatchHandler, DispatchItem, FilterFn, HandlerContext, ItemHandler, PoolLifecycle, PoolStartContext, RouteFn } from './types.js';
