import { definePlugin } from '../plugin.ts';
import { PersonMasker, SELFIE_MODEL_FILE } from './person-mask.ts';

/** MediaPipe selfie segmentation: silhouettes (`Detection.mask`) for the persons found. */
export const selfieMaskPlugin = definePlugin({
  key: 'selfie-mask',
  classes: ['person'],
  role: 'refiner',
  stage: 'person-mask',
  files: [SELFIE_MODEL_FILE],
  needs: [{ cls: 'person' }],
  whenMissing: 'persons are covered by their boxes',
  create: async (factory) => {
    const masker = await PersonMasker.create(factory);
    return {
      name: 'person-mask:selfie-segmentation',
      run: async (image, _options, inputs) => {
        await masker.addMasks(image, inputs.person ?? []);
        return [];
      },
    };
  },
});
