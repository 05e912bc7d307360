import { memoryStoreFactory } from './adapters/memory.js';
import { redisStoreFactory, redisStreamsFactory } from './adapters/redis.js';
import { brokerConformance } from './broker-suite.js';
import { pipelineConformance } from './pipeline-suite.js';
import { storeConformance } from './store-suite.js';

brokerConformance(redisStreamsFactory);
storeConformance(redisStoreFactory);
pipelineConformance(redisStreamsFactory, redisStoreFactory);
pipelineConformance(redisStreamsFactory, memoryStoreFactory);
