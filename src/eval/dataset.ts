import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Box, ObjectClass } from '../types.ts';

/** The evaluation set's annotations.json, read into our class names and x0/y0/x1/y1 boxes. */
export interface EvalImage {
  file: string;
  width: number;
  height: number;
  truth: { cls: ObjectClass; box: Box }[];
  annotated: ObjectClass[];
  ignore: Box[];
}

interface RawBox {
  x: number;
  y: number;
  w: number;
  h: number;
  label?: string;
}

// The dataset spells the plate label the British way; the product's class name is 'license-plate'.
const LABELS: Record<string, ObjectClass> = {
  face: 'face',
  'licence-plate': 'license-plate',
  'license-plate': 'license-plate',
  person: 'person',
  vehicle: 'vehicle',
};

function toBox(b: RawBox): Box {
  return { x0: b.x, y0: b.y, x1: b.x + b.w, y1: b.y + b.h };
}

export async function readEvalDataset(dataset: string): Promise<EvalImage[]> {
  const raw = JSON.parse(await readFile(path.join(dataset, 'annotations.json'), 'utf8')) as {
    images: { file: string; width: number; height: number; boxes: RawBox[]; annotated_labels: string[]; ignore?: RawBox[] }[];
  };
  return raw.images.map((im) => ({
    file: path.join(dataset, im.file),
    width: im.width,
    height: im.height,
    truth: im.boxes.filter((b) => b.label && LABELS[b.label]).map((b) => ({ cls: LABELS[b.label!]!, box: toBox(b) })),
    annotated: im.annotated_labels.map((l) => LABELS[l]).filter((c): c is ObjectClass => c !== undefined),
    ignore: (im.ignore ?? []).map(toBox),
  }));
}
