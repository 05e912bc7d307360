import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RedisStreamsBroker } from '../../src/broker-adapters/redis-streams/index.js';
import { ModelHolder } from '../../src/inference-worker/model-holder.js';
import { StoreRegistry } from '../../src/proxy/index.js';

describe('ModelHolder', () => {
  it('a model topic it cannot read leaves the worker on its current model, with the failure logged (no unhandled rejection)', async () => {
    // Nothing listens on port 1: the model topic's subscriber fails with ConnectionError.
    const broker = new RedisStreamsBroker({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 300 });
    const logged: Array<{ msg: string; topic?: string }> = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line) as { msg: string }) });
    const holder = new ModelHolder('infer', () => ({ weights: [1] }));
    await holder.start({ broker, modelTopic: 'models', stores: new StoreRegistry([]), logger, registry: undefined });
    const deadline = Date.now() + 5_000;
    while (!logged.some((line) => line.msg.startsWith('following the model topic failed')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(logged.find((line) => line.msg.startsWith('following the model topic failed'))).toMatchObject({ topic: 'models' });
    expect(await holder.use(async (model, version) => ({ model, version }))).toEqual({ model: { weights: [1] }, version: 1 });
    await holder.stop();
    await broker.close();
  });
});
