import { afterAll } from 'vitest';
import { fileStoreAsyncIoFactory, fileStoreDirs, fileStoreFactory, memoryBrokerFactory, memoryStoreFactory } from './adapters/memory.js';
import { brokerConformance } from './broker-suite.js';
import { pipelineConformance } from './pipeline-suite.js';
import { storeConformance } from './store-suite.js';

afterAll(fileStoreDirs.removeAll);
brokerConformance(memoryBrokerFactory);
storeConformance(memoryStoreFactory);
storeConformance(fileStoreFactory);
storeConformance(fileStoreAsyncIoFactory);
pipelineConformance(memoryBrokerFactory, memoryStoreFactory);
pipelineConformance(memoryBrokerFactory, fileStoreFactory);
