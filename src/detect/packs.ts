// Model packs: weights listed in models/packs.json that the product downloads instead of shipping.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_MODELS_DIR } from './session.ts';

const SHA256 = /^[0-9a-f]{64}$/;

const PackFileSchema = z.object({
  file: z.string().regex(/^[A-Za-z0-9_.-]+\.onnx$/),
  bytes: z.number().int().positive(),
  sha256: z.string().regex(SHA256),
  source: z.object({ repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/), commit: z.string().regex(/^[0-9a-f]{40}$/), path: z.string().min(1) }),
  licence: z.string().min(1),
  licenceNote: z.string().optional(),
  input: z.object({ name: z.string(), shape: z.array(z.union([z.string(), z.number()])), note: z.string() }),
  edit: z.null(),
});

const PackSchema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/),
  default: z.boolean(),
  classes: z.array(z.string()),
  description: z.string(),
  files: z.array(PackFileSchema).min(1),
});

const ManifestSchema = z.object({ about: z.string(), packs: z.array(PackSchema) });

export type PackFile = z.infer<typeof PackFileSchema>;
export type ModelPack = z.infer<typeof PackSchema>;

/** The bundled manifest (models/packs.json). */
export const PACKS_MANIFEST = path.join(DEFAULT_MODELS_DIR, 'packs.json');

let cached: ModelPack[] | undefined;

/** The packs of the bundled manifest, validated. */
export function modelPacks(): ModelPack[] {
  cached ??= ManifestSchema.parse(JSON.parse(readFileSync(PACKS_MANIFEST, 'utf8'))).packs;
  return cached;
}

export function packNamed(name: string): ModelPack | undefined {
  return modelPacks().find((p) => p.name === name);
}

/** The file's upstream address, pinned to the commit (GitHub's raw file host). */
export function upstreamUrl(f: PackFile): string {
  return `https://raw.githubusercontent.com/${f.source.repo}/${f.source.commit}/${f.source.path}`;
}

/** Whether every file of the pack is in `dir` (presence only; `models fetch` verifies hashes when installing). */
export function packInstalled(pack: ModelPack, dir: string): boolean {
  return pack.files.every((f) => existsSync(path.join(dir, f.file)));
}
