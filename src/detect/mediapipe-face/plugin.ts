import { definePlugin, detectorStage, type DetectorPlugin } from '../plugin.ts';
import { FACE_MODELS, FaceDetector, type FaceModelName } from './face.ts';

function mediapipePlugin(model: Extract<FaceModelName, 'full-range' | 'back-256'>): DetectorPlugin {
  return definePlugin({
    key: model,
    classes: ['face'],
    role: 'member',
    stage: 'face',
    files: [FACE_MODELS[model].file],
    create: async (factory) => detectorStage(await FaceDetector.create(factory, { model })),
  });
}

/** MediaPipe full-range face detection (192² input, whole image and tiles): a member of the face ensemble. */
export const fullRangePlugin = mediapipePlugin('full-range');
/** MediaPipe BlazeFace back-camera (256² input): the ensemble's second member when the SSD file is absent. */
export const back256Plugin = mediapipePlugin('back-256');
