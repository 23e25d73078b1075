import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { Detection, ObjectMask, RgbImage } from '../../types.ts';
import { clipBox, padBox } from '../boxes.ts';
import { integerRegion, rgbToUnitNhwc } from '../image-input.ts';
import type { SessionFactory } from '../session.ts';

export const SELFIE_MODEL_FILE = 'selfie_segmentation.onnx';
const INPUT = 256;

export interface PersonMaskOptions {
  /** Persons shorter than this (px) keep their box: a mask adds nothing at that size. */
  minHeight: number;
  /** Most persons segmented per image, largest first; the rest keep their box. */
  maxPersons: number;
  /**
   * A mask covering less than this share of its box is taken as a failure of the segmenter
   * (it is trained on people near the camera) and dropped, so the renderer covers the whole box.
   */
  minCoverage: number;
  /** Context around the person box given to the segmenter, as a fraction of the box per side. */
  context: number;
}

export const DEFAULT_PERSON_MASK_OPTIONS: PersonMaskOptions = {
  minHeight: 32,
  maxPersons: 12,
  minCoverage: 0.15,
  context: 0.1,
};

/** Person silhouettes from MediaPipe selfie segmentation run on each person's crop. */
export class PersonMasker {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly options: PersonMaskOptions,
  ) {}

  static async create(factory: SessionFactory, options: Partial<PersonMaskOptions> = {}): Promise<PersonMasker> {
    const { session } = await factory.load(SELFIE_MODEL_FILE);
    return new PersonMasker(session, { ...DEFAULT_PERSON_MASK_OPTIONS, ...options });
  }

  /** Adds `mask` to person detections in place (others are left alone) and returns them. */
  async addMasks(image: RgbImage, detections: Detection[]): Promise<Detection[]> {
    const persons = detections
      .filter((d) => d.cls === 'person' && d.box.y1 - d.box.y0 >= this.options.minHeight)
      .sort((a, b) => area(b) - area(a))
      .slice(0, this.options.maxPersons);
    for (const person of persons) {
      const mask = await this.segment(image, person);
      if (mask) person.mask = mask;
    }
    return detections;
  }

  private async segment(image: RgbImage, person: Detection): Promise<ObjectMask | undefined> {
    const c = this.options.context;
    const region = integerRegion(clipBox(padBox(person.box, c, c), image.width, image.height), image.width, image.height);
    const width = region.x1 - region.x0;
    const height = region.y1 - region.y0;
    const raw = { raw: { width: image.width, height: image.height, channels: 3 as const } };
    const rgb = await sharp(image.data, raw)
      .extract({ left: region.x0, top: region.y0, width, height })
      .resize(INPUT, INPUT, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer();
    const input = new ort.Tensor('float32', rgbToUnitNhwc(rgb), [1, INPUT, INPUT, 3]);
    const outputs = await this.session.run({ [this.session.inputNames[0]!]: input });
    const prob = outputs[this.session.outputNames[0]!]!.data as Float32Array;
    const small = Buffer.alloc(INPUT * INPUT);
    for (let i = 0; i < small.length; i++) small[i] = Math.round(Math.min(Math.max(prob[i]!, 0), 1) * 255);
    const full = await sharp(small, { raw: { width: INPUT, height: INPUT, channels: 1 } })
      .resize(width, height, { fit: 'fill', kernel: 'linear' })
      // libvips hands a one-band image back as sRGB unless told otherwise.
      .extractChannel(0)
      .raw()
      .toBuffer();
    // Only the person's own box counts for the sanity check; the context band may hold other people.
    const bx0 = Math.round(person.box.x0) - region.x0;
    const by0 = Math.round(person.box.y0) - region.y0;
    const bx1 = Math.round(person.box.x1) - region.x0;
    const by1 = Math.round(person.box.y1) - region.y0;
    let on = 0;
    let total = 0;
    for (let y = Math.max(by0, 0); y < Math.min(by1, height); y++) {
      for (let x = Math.max(bx0, 0); x < Math.min(bx1, width); x++) {
        total++;
        if (full[y * width + x]! >= 128) on++;
      }
    }
    if (total === 0 || on / total < this.options.minCoverage) return undefined;
    return { x: region.x0, y: region.y0, width, height, data: new Uint8Array(full.buffer, full.byteOffset, full.length) };
  }
}

function area(d: Detection): number {
  return (d.box.x1 - d.box.x0) * (d.box.y1 - d.box.y0);
}
