import { definePlugin } from '../plugin.ts';
import { PLATE_MODEL_FILE, PlateDetector } from './plate.ts';

/** Vehicle score from which a vehicle box counts as context for plates (one plate per vehicle). */
export const PLATE_CONTEXT_VEHICLE_SCORE = 0.3;

/**
 * PP-OCRv4 text detection as a licence-plate finder. Vehicle boxes (when a vehicle detector is
 * installed) get a close-up pass and limit plates to one per vehicle; the plate search wants every
 * likely vehicle, whatever threshold the user set for blurring vehicles.
 */
export const ppocrPlatePlugin = definePlugin({
  key: 'ppocr-plate',
  classes: ['license-plate'],
  role: 'detector',
  stage: 'license-plate',
  files: [PLATE_MODEL_FILE],
  // Early: the whole-frame pass runs beside the vehicle search; only the vehicle crops wait for its boxes.
  needs: [{ cls: 'vehicle', optional: true, minScore: PLATE_CONTEXT_VEHICLE_SCORE, early: true }],
  create: async (factory) => {
    const plate = await PlateDetector.create(factory);
    return {
      name: plate.name,
      run: (image, options, inputs, pending) => {
        const vehicles = pending?.vehicle ?? (inputs.vehicle ? Promise.resolve(inputs.vehicle) : undefined);
        return plate.detect(image, options, vehicles?.then((found) => found.map((d) => d.box)));
      },
    };
  },
});
