import { memoryStoreFactory } from './adapters/memory.js';
import { zmqPubSubFactory, zmqPushPullFactory } from './adapters/zmq.js';
import { brokerConformance } from './broker-suite.js';
import { pipelineConformance } from './pipeline-suite.js';

brokerConformance(zmqPubSubFactory);
brokerConformance(zmqPushPullFactory);
pipelineConformance(zmqPubSubFactory, memoryStoreFactory);
