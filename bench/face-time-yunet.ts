/**
 * Face time of the YuNet pack per development photo: `node --import tsx bench/face-time-yunet.ts [plan] [limit]`, plan
 * = shipped (default: 0.5× large-face pass + 2× and its mirror, voted) or previous (1× + 2×). Prints wall and CPU ms per
 * image of the detection loop (images decoded before; one warm-up image).
 */
import sharp from 'sharp';
import { SessionFactory } from '../src/detect/session.ts';
import { YUNET_PLANS, YunetFaceDetector, type YunetPass } from '../src/detect/yunet/yunet.ts';
import { readEvalDataset } from '../src/eval/dataset.ts';
import { DEFAULT_THRESHOLDS, type RgbImage } from '../src/types.ts';

const [which = 'shipped', limit = '80'] = process.argv.slice(2);
const images = (await readEvalDataset('../shared/eval')).filter((im) => im.annotated.includes('face')).slice(0, Number(limit));
const factory = new SessionFactory({ provider: 'cpu', modelsDir: process.env.PACKS_DIR ?? '../shared/models-extra', threads: Number(process.env.THREADS ?? 2) });
const yunet = await YunetFaceDetector.create(factory, 'balanced', { ...YUNET_PLANS.balanced, mirrorVoteInputPixels: which === 'previous' ? 0 : YUNET_PLANS.balanced.mirrorVoteInputPixels });
const decoded: RgbImage[] = [];
for (const im of images) {
  const { data, info } = await sharp(im.file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  decoded.push({ data, width: info.width, height: info.height });
}
const previousPasses = (w: number, h: number): YunetPass[] => {
  const whole = { x0: 0, y0: 0, x1: w, y1: h };
  return [{ region: whole, zoom: 1, minFace: 128 }, { region: whole, zoom: 2, maxFace: 160 }];
};
const options = { classes: ['face' as const], thresholds: DEFAULT_THRESHOLDS };
const once = async (rgb: RgbImage) => {
  if (which !== 'previous') return yunet.detect(rgb, options);
  const passes = previousPasses(rgb.width, rgb.height);
  for (const p of passes) await yunet.passBoxes(rgb, p);
};
await once(decoded[0]!);
const cpu0 = process.cpuUsage();
const t = performance.now();
for (const rgb of decoded) await once(rgb);
const wall = (performance.now() - t) / decoded.length;
const cpu = process.cpuUsage(cpu0);
console.log(`${which}: ${decoded.length} images, ${wall.toFixed(1)} ms/img wall, ${((cpu.user + cpu.system) / 1000 / decoded.length).toFixed(1)} ms/img CPU`);
await factory.dispose();
