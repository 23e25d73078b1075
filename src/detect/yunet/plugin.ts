import { definePlugin, detectorStage } from '../plugin.ts';
import { YUNET_MODEL_FILE, YunetFaceDetector } from './yunet.ts';

/** YuNet-n (the `yunet` model pack): the face detector whenever its pack is installed. */
export const yunetPlugin = definePlugin({
  key: 'yunet',
  classes: ['face'],
  role: 'detector',
  stage: 'face',
  files: [YUNET_MODEL_FILE],
  create: async (factory, options) => detectorStage(await YunetFaceDetector.create(factory, options.faceSearch)),
});
