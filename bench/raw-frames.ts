// `node --import tsx bench/raw-frames.ts`: what a PEKAT raw frame costs before detection starts
// (BGR → PNG, BayerRG8 demosaic → PNG, and the PNG decode the pipeline does next), per frame size. Not a test.
import sharp from 'sharp';
import { decodeRawFrame, rawFrameToPng } from '../src/pipeline/image/raw.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIZES = [
  { label: '1280×720', width: 1280, height: 720 },
  { label: '1920×1080', width: 1920, height: 1080 },
  { label: '4096×3000', width: 4096, height: 3000 },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function time(run: () => Promise<unknown> | unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t = performance.now();
    await run();
    if (i > 0) samples.push(performance.now() - t);
  }
  return median(samples);
}

console.log(`median of ${RUNS} runs, ms`);
console.log('size        demosaic  bgr→png  bayer→png  png decode');
for (const { label, width, height } of SIZES) {
  const bgr = Buffer.alloc(width * height * 3);
  for (let i = 0; i < bgr.length; i++) bgr[i] = (i * 2654435761) >>> 24; // noise: the worst case for PNG
  const bayer = bgr.subarray(0, width * height);
  const demosaic = await time(() => decodeRawFrame(bayer, { width, height, bayer: true }));
  const bgrPng = await time(() => rawFrameToPng(bgr, { width, height, bayer: false }));
  const bayerPng = await time(() => rawFrameToPng(bayer, { width, height, bayer: true }));
  const png = await rawFrameToPng(bgr, { width, height, bayer: false });
  const decode = await time(() => sharp(png).raw().toBuffer());
  console.log(`${label.padEnd(11)} ${demosaic.toFixed(0).padStart(8)} ${bgrPng.toFixed(0).padStart(8)} ${bayerPng.toFixed(0).padStart(10)} ${decode.toFixed(0).padStart(11)}`);
}
