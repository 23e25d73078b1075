// `anonymiser process <input-dir> <output-dir>`: the folder batch mode. Runs the same pipelines as the API
// and writes the same files, mirroring the input folder's layout.
import { readdir, mkdir, access } from 'node:fs/promises';
import { join, relative, dirname } from 'node:path';
import cliProgress from 'cli-progress';
import type { EngineConfig } from './config.ts';
import { createDetectionEngine } from './detect/engine.ts';
import { parseFileQuery } from './http/celantur/params.ts';
import { processImage } from './pipeline/image/index.ts';
import { processVideo, hasVideoMetadata } from './pipeline/video/index.ts';
import { sniffFile, type SniffedType } from './pipeline/sniff.ts';
import { safeStem } from './tasks/service.ts';

export interface BatchOptions {
  inputDir: string;
  outputDir: string;
  engine: EngineConfig;
  query: Record<string, string>;
  progress: boolean;
  overwrite: boolean;
}

async function* walk(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

const exists = (p: string) => access(p).then(() => true, () => false);

/** Returns the process exit code: 0 when every file was processed, 1 when any failed. */
export async function runBatch(opts: BatchOptions): Promise<number> {
  const { params, warnings } = parseFileQuery(opts.query, opts.engine.classes, { thresholds: opts.engine.thresholds });
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const files: { path: string; type: SniffedType }[] = [];
  for await (const path of walk(opts.inputDir)) {
    const type = await sniffFile(path).catch(() => null);
    if (type) files.push({ path, type });
  }
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  if (files.length === 0) {
    log(`no images or videos found in ${opts.inputDir}`);
    return 0;
  }
  const engine = await createDetectionEngine({
    classes: opts.engine.classes,
    provider: opts.engine.provider,
    modelsDir: opts.engine.modelsDir,
    faceSearch: opts.engine.faceSearch,
    packsDir: opts.engine.packsDir,
    faceDetector: opts.engine.faceDetector,
    threads: opts.engine.threads || undefined,
    detectEvery: opts.engine.detectEvery,
    log: (_level, message) => log(message),
  });
  const bars = opts.progress && process.stderr.isTTY
    ? new cliProgress.MultiBar({ format: '{bar} {value}/{total} {label}', hideCursor: true, clearOnComplete: false, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : null;
  const overall = bars?.create(files.length, 0, { label: 'files' });
  let failed = 0;
  let skipped = 0;
  try {
    for (const [i, f] of files.entries()) {
      const rel = relative(opts.inputDir, f.path);
      const stem = safeStem(rel.split(/[\\/]/).pop()!);
      const outDir = join(opts.outputDir, dirname(rel));
      await mkdir(outDir, { recursive: true });
      if (!opts.overwrite && (await exists(join(outDir, `${stem}.json`)) || await hasVideoMetadata(outDir, stem))) {
        skipped++;
        overall?.update(i + 1, { label: `${rel} (done before)` });
        continue;
      }
      overall?.update(i, { label: rel });
      try {
        if (f.type.kind === 'image') {
          await processImage({ id: stem, inputPath: f.path, outputDir: outDir, stem, params, engine, folder: dirname(rel) === '.' ? null : dirname(rel) });
        } else {
          const frames = bars?.create(1, 0, { label: `${rel} frames` });
          await processVideo({
            id: stem, inputPath: f.path, outputDir: outDir, stem, params, engine,
            onProgress: (done, total) => {
              frames?.setTotal(total);
              frames?.update(done);
            },
          }).finally(() => frames && bars?.remove(frames));
        }
        if (!bars) log(`done ${rel}`);
      } catch (err) {
        failed++;
        log(`failed ${rel}: ${(err as Error).message}`);
      }
      overall?.update(i + 1);
    }
  } finally {
    bars?.stop();
    await engine.dispose();
  }
  log(`${files.length - failed - skipped} processed, ${skipped} skipped (outputs exist), ${failed} failed`);
  return failed > 0 ? 1 : 0;
}
