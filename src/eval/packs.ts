// `anonymiser eval --packs with|without|both`: the evaluation with and without the downloadable model packs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fetchPacks, resolvePacks } from '../detect/pack-fetch.ts';
import type { ObjectClass } from '../types.ts';
import { OBJECT_CLASSES } from '../types.ts';
import { runEvaluation, type EvalOptions, type EvalReport } from './run.ts';

export const PACK_MODES = ['installed', 'with', 'without', 'both'] as const;
export type PackMode = (typeof PACK_MODES)[number];

export interface PackEvalOptions extends EvalOptions {
  packs: PackMode;
  /** Fetch the default packs from this mirror (URL or folder, verified) into a temporary folder for the run. */
  mirror?: string;
}

export interface LabelledReport {
  label: string;
  report: EvalReport;
}

/**
 * installed: as `serve` would run (packs used where installed); without: bundled models only; with: the
 * default packs required (from packsDir, or fetched from `mirror` into a temporary folder first); both:
 * with, then without for the classes the packs change (the other classes' rows would repeat the first table).
 */
export async function runPackEvaluations(opts: PackEvalOptions): Promise<LabelledReport[]> {
  const { packs: mode, mirror, ...base } = opts;
  if (mode === 'installed') return [{ label: 'models as installed', report: await runEvaluation(base) }];
  const without = (classes: readonly ObjectClass[]): Promise<EvalReport> => runEvaluation({ ...base, classes: [...classes], faceDetector: 'ensemble' });
  if (mode === 'without') return [{ label: 'bundled models only (no packs)', report: await without(base.classes ?? OBJECT_CLASSES) }];
  const packs = resolvePacks();
  let temp: string | undefined;
  try {
    let packsDir = base.packsDir;
    if (mirror) {
      temp = await mkdtemp(path.join(tmpdir(), 'anonymiser-packs-'));
      await fetchPacks({ packsDir: temp, mirror, log: base.log });
      packsDir = temp;
    }
    const out: LabelledReport[] = [
      { label: `with packs (${packs.map((p) => p.name).join(', ')})`, report: await runEvaluation({ ...base, packsDir, faceDetector: 'yunet' }) },
    ];
    if (mode === 'both') {
      const changed = (base.classes ?? OBJECT_CLASSES).filter((c) => packs.some((p) => p.classes.includes(c)));
      out.push({ label: `without packs (bundled models; only the classes the packs change: ${changed.join(', ')})`, report: await without(changed) });
    }
    return out;
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}
