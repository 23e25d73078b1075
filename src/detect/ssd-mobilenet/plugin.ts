import { FACE_MODELS, FaceDetector } from '../mediapipe-face/face.ts';
import { definePlugin, detectorStage } from '../plugin.ts';

/**
 * SSD MobileNetV1 face detector (WIDER FACE, 512² input): a member of the face ensemble. It runs
 * through the tiled anchor-model runner of mediapipe-face/ (its own decoding: ssd-mobilenet-decode.ts).
 */
export const ssdMobilenetPlugin = definePlugin({
  key: 'ssd-mobilenet',
  classes: ['face'],
  role: 'member',
  stage: 'face',
  files: [FACE_MODELS['ssd-mobilenet'].file],
  create: async (factory) => detectorStage(await FaceDetector.create(factory, { model: 'ssd-mobilenet' })),
});
