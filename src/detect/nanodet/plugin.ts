import { definePlugin, detectorStage } from '../plugin.ts';
import { NANODET_MODEL_FILE, ObjectDetector } from './objects.ts';

/** NanoDet (COCO-80): persons and vehicles, and the vehicle boxes plates are searched in. */
export const nanodetPlugin = definePlugin({
  key: 'nanodet',
  classes: ['person', 'vehicle'],
  role: 'detector',
  stage: 'person+vehicle',
  files: [NANODET_MODEL_FILE],
  create: async (factory) => detectorStage(await ObjectDetector.create(factory)),
});
