// Resource limits every pipeline step applies, whoever calls it (task service, batch CLI, upload probe).
import { TooManyPixelsError } from '../errors.ts';

/** 75.5 Mpx: a 12288×6144 panorama, the largest real inputs users send, fits; a 16383² PNG bomb does not. */
export const DEFAULT_MAX_PIXELS = 75_500_000;

/** libvips' own ceiling (sharp's default limitInputPixels); --max-pixels cannot go above it. */
export const SHARP_PIXEL_CEILING = 268_402_689;

export interface MediaLimits {
  /** Largest image or video frame, in pixels. */
  maxPixels: number;
}

export const DEFAULT_LIMITS: MediaLimits = { maxPixels: DEFAULT_MAX_PIXELS };

/** Throws TooManyPixelsError (422) when width×height is over the limit. */
export function checkPixels(width: number, height: number, limits: MediaLimits = DEFAULT_LIMITS): void {
  if (width * height > limits.maxPixels) throw new TooManyPixelsError(width, height, limits.maxPixels);
}
