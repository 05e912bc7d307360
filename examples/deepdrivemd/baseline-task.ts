import { scoreFrames, type Restart } from './inference.js';
import { ContactMapModel } from './science/model.js';

/** What the baseline sends each task: the model and the frames, inside the message. */
export interface TaskRequest {
  model: unknown;
  coords: Float32Array;
  contacts: Uint8Array;
  rmsd: Float32Array;
  outliers: number;
}

/**
 * One baseline inference task, in a fresh process as a task system would start it: load the model
 * from the message, score the frames that came inside the message, reply, exit.
 */
process.once('message', (request: TaskRequest) => {
  const model = ContactMapModel.fromJSON(request.model);
  const restarts: Restart[] = scoreFrames(model, request, request.outliers);
  process.send!(restarts, () => process.exit(0));
});
