// Rendering: anonymised pixels, segmentation masks and metadata from an image, its detections and the parameters.
export { anonymise, type AnonymiseOptions, type AnonymiseResult } from './anonymise.ts';
export { buildCoverage, MASK_THRESHOLD, type Coverage } from './coverage.ts';
export { planObjects, IGNORED_SHARE, type ObjectPlan, type PlannedObject } from './plan.ts';
export { encodeBinaryMask, encodeInstanceMask, scaleMaskPng, scaledSize, instanceId, INSTANCE_TYPE_BITS } from './masks.ts';
export {
  buildMetadata, buildFrameMetadata, metadataDetections, TYPE_CODES,
  type ImageMetadata, type FrameMetadata, type MetadataDetection, type MetadataInput, type FrameMetadataInput,
} from './metadata.ts';
export { drawDebug, DEBUG_COLORS } from './debug.ts';
export { encodeHeatmap } from './heatmap.ts';
export { kernelPixels, sigmaForKernel } from './blur.ts';
export { blockSize, BLOCKS_ACROSS, MIN_BLOCK_PX } from './pixelate.ts';
