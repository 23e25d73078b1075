// PEKAT-style heatmap: the soft anonymisation mask of one image as a grey PNG of the same size,
// black where nothing is anonymised and brighter where more of the effect is applied.
import sharp from 'sharp';
import { buildCoverage } from './coverage.ts';
import type { ObjectPlan } from './plan.ts';

export async function encodeHeatmap(plan: ObjectPlan): Promise<Buffer> {
  const { data, width, height } = buildCoverage(plan);
  return sharp(data, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
}
