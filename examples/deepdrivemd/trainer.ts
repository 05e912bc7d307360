import type { StreamConsumer, StreamProducer } from 'proxystream';
import { CONTACTS_PER_FRAME, fromPayload, type FramePayload } from './frames.js';
import { ContactMapModel } from './science/model.js';

/** Fits a model on contact maps (every row of `contacts`), as the published model payload. */
export function fitModel(contacts: Uint8Array): ReturnType<ContactMapModel['toJSON']> {
  const count = contacts.length / CONTACTS_PER_FRAME;
  const maps = Array.from({ length: count }, (_, i) => contacts.subarray(i * CONTACTS_PER_FRAME, (i + 1) * CONTACTS_PER_FRAME));
  return ContactMapModel.fit(maps, { latentDim: 3 }).toJSON();
}

/**
 * The training loop: keeps the contact maps of the newest `reservoirFrames` frames and, every
 * `everySegments` segments, refits the model and publishes it on the model topic (its version in the
 * metadata). Returns how many models it published.
 */
export async function train(options: {
  consumer: StreamConsumer<FramePayload>;
  models: StreamProducer;
  modelTopic: string;
  everySegments: number;
  reservoirFrames: number;
  firstVersion: number;
  onModel?: (model: ReturnType<ContactMapModel['toJSON']>, version: number) => void;
}): Promise<number> {
  const reservoir: Uint8Array[] = [];
  let frames = 0;
  let seen = 0;
  let version = options.firstVersion;
  for await (const item of options.consumer) {
    const { contacts } = fromPayload(await item.resolve());
    reservoir.push(contacts);
    frames += contacts.length / CONTACTS_PER_FRAME;
    while (frames - reservoir[0]!.length / CONTACTS_PER_FRAME >= options.reservoirFrames) frames -= reservoir.shift()!.length / CONTACTS_PER_FRAME;
    await item.ack();
    seen += 1;
    if (seen % options.everySegments !== 0) continue;
    version += 1;
    const model = fitModel(Buffer.concat(reservoir));
    options.onModel?.(model, version);
    await options.models.send(options.modelTopic, model, { metadata: { kind: 'model', version, frames } });
  }
  return version - options.firstVersion;
}
