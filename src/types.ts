// Domain types shared along the path HTTP/CLI → tasks → pipeline → detect/render.
// Kept free of imports so that every layer can depend on it without reaching up.

export const OBJECT_CLASSES = ['face', 'license-plate', 'person', 'vehicle'] as const;
export type ObjectClass = (typeof OBJECT_CLASSES)[number];

/** Axis-aligned box in pixels of the (EXIF-rotated) image: x0,y0 inclusive top-left, x1,y1 exclusive bottom-right. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Soft mask of one object: `data` is width×height alpha (0 = untouched, 255 = fully covered),
 * placed with its top-left pixel at (x, y) in image coordinates.
 */
export interface ObjectMask {
  x: number;
  y: number;
  width: number;
  height: number;
  data: Uint8Array;
}

export interface Detection {
  cls: ObjectClass;
  score: number;
  box: Box;
  /** Segmentation of the object where the model gives one (persons); renderers fall back to the class's shape. */
  mask?: ObjectMask;
  /** Set by the video tracker. */
  trackId?: number;
}

/** Packed 8-bit RGB pixels, row-major, no padding. */
export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}

/** A rectangle the user asked to leave untouched (Celantur's `ignores` item). */
export interface IgnoreRegion {
  topLeftX: number;
  topLeftY: number;
  width: number;
  height: number;
}

export type Method = 'blur' | 'pixelate' | 'blacken' | 'detect';
export type SaveMask = 'all' | 'binary' | 'instance' | 'none';

export interface Gradient {
  start: number;
  stop: number;
}

/** Everything that decides how one file is processed, after validation. */
export interface ProcessParams {
  method: Method;
  debug: boolean;
  score: boolean;
  /** Classes to detect and anonymise for this file (already intersected with the classes the container runs). */
  classes: ObjectClass[];
  bbox: boolean;
  ignores: IgnoreRegion[];
  /** 0..100: percentage to which masks are scaled. */
  maskScale: number;
  saveMask: SaveMask;
  /** JPEG quality 1..100 (also maps to CRF for video). */
  quality: number;
  /** PNG compression level 0..9. */
  compressLevel: number;
  /** Blur strength per class: relative to the box when < 1 (face, plate), a kernel size in pixels otherwise. */
  kernelSize: Record<ObjectClass, number>;
  /** Soft-edge ramps for faces and plates (Celantur's *-anonymization-gradient-start/stop). */
  gradient: { face: Gradient; 'license-plate': Gradient };
  /** Minimum detection score per class. */
  thresholds: Record<ObjectClass, number>;
  /** Solid fill colour used by `blacken` (default black). */
  fillColor: [number, number, number];
  /** Also write the soft anonymisation mask as a grey PNG (PEKAT's heatmap). Images only. */
  heatmap?: boolean;
  /** Write the anonymised image in this format instead of the input's (PEKAT answers PNG). Images only. */
  outputFormat?: 'png';
  /**
   * Background replacement (InstaVid360 bg-replace, issue 13): instead of anonymising, the foreground
   * (vehicles, persons with them) is put on `background`, then `overlay` on top. Paths of stored images.
   */
  replaceBackground?: { background: string; overlay: string | null; shadow: boolean };
}

// Tuned on the development evaluation set for at most ~0.5 false positives per image and class
// (see src/eval/README.md): NanoDet's scores for small COCO objects sit at 0.3-0.4.
export const DEFAULT_THRESHOLDS: Record<ObjectClass, number> = {
  face: 0.34,
  'license-plate': 0.5,
  person: 0.35,
  vehicle: 0.3,
};

export const DEFAULT_PARAMS: ProcessParams = {
  method: 'blur',
  debug: false,
  score: false,
  classes: [...OBJECT_CLASSES],
  bbox: false,
  ignores: [],
  maskScale: 100,
  saveMask: 'all',
  quality: 90,
  compressLevel: 5,
  kernelSize: { face: 0.35, 'license-plate': 0.5, person: 95, vehicle: 61 },
  gradient: { face: { start: 0.3, stop: 0.0 }, 'license-plate': { start: 0.3, stop: 0.0 } },
  thresholds: { ...DEFAULT_THRESHOLDS },
  fillColor: [0, 0, 0],
};
