export { defineWorker, type StatefulWorkerPool, type WorkerContext, type WorkerDefinition, type WorkerInput, type WorkerOutput } from './define-worker.js';
export { ModelMetricNames, type LoadContext } from './model-holder.js';
