import { memoryBrokerFactory, fileStoreFactory, memoryStoreFactory } from './adapters/memory.js';
import { brokerConformance } from './broker-suite.js';
import { pipelineConformance } from './pipeline-suite.js';
import { storeConformance } from './store-suite.js';

brokerConformance(memoryBrokerFactory);
storeConformance(memoryStoreFactory);
storeConformance(fileStoreFactory);
pipelineConformance(memoryBrokerFactory, memoryStoreFactory);
pipelineConformance(memoryBrokerFactory, fileStoreFactory);
