import { definePlugin, detectorStage } from '../plugin.ts';
import { MTCNN_FILES, MtcnnFaceDetector } from './mtcnn.ts';

/** MTCNN (P-Net, R-Net, O-Net): the face ensemble's third vote (O-Net) and, on small frames, a third detector. */
export const mtcnnPlugin = definePlugin({
  key: 'mtcnn',
  classes: ['face'],
  role: 'member',
  stage: 'face',
  files: [MTCNN_FILES.pnet, MTCNN_FILES.rnet, MTCNN_FILES.onet],
  create: async (factory) => detectorStage(await MtcnnFaceDetector.create(factory)),
});
