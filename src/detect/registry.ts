// The detector plugins, one per model folder, and which of them serves each class.
import type { ObjectClass } from '../types.ts';
import { ModelsUnavailableError } from '../errors.ts';
import { faceEnsemblePlugin } from './face-ensemble/plugin.ts';
import { back256Plugin, fullRangePlugin } from './mediapipe-face/plugin.ts';
import { mtcnnPlugin } from './mtcnn/plugin.ts';
import { nanodetPlugin } from './nanodet/plugin.ts';
import type { DetectorPlugin } from './plugin.ts';
import { ppocrPlatePlugin } from './ppocr-plate/plugin.ts';
import type { SessionFactory } from './session.ts';
import { selfieMaskPlugin } from './selfie-mask/plugin.ts';
import { ssdMobilenetPlugin } from './ssd-mobilenet/plugin.ts';
import { yunetPlugin } from './yunet/plugin.ts';

/** Every plugin. Engine results list detections in this order of their stages (persons and vehicles, faces, plates). */
export const PLUGINS: readonly DetectorPlugin[] = [
  nanodetPlugin,
  yunetPlugin,
  faceEnsemblePlugin,
  ppocrPlatePlugin,
  selfieMaskPlugin,
  fullRangePlugin,
  ssdMobilenetPlugin,
  mtcnnPlugin,
  back256Plugin,
];

/**
 * Detectors per class in preference order: `auto` takes the first installed one, and the last one
 * (the bundled models) when none is, whose loading then reports the missing files.
 */
export const DETECTORS: Readonly<Record<ObjectClass, readonly DetectorPlugin[]>> = {
  face: [yunetPlugin, faceEnsemblePlugin],
  'license-plate': [ppocrPlatePlugin],
  person: [nanodetPlugin],
  vehicle: [nanodetPlugin],
};

/** Refiners per class: run on that class's detections when installed (skipped with a log line when not). */
export const REFINERS: Readonly<Partial<Record<ObjectClass, readonly DetectorPlugin[]>>> = {
  person: [selfieMaskPlugin],
};

export function pluginNamed(key: string): DetectorPlugin | undefined {
  return PLUGINS.find((p) => p.key === key);
}

/**
 * The detector for `cls`: `choice` auto takes the first installed one in preference order; a key
 * takes that plugin, which must be installed when it comes from a model pack.
 */
export function detectorFor(cls: ObjectClass, factory: SessionFactory, choice = 'auto'): DetectorPlugin {
  const candidates = DETECTORS[cls];
  if (choice === 'auto') return candidates.find((p) => p.installed(factory)) ?? candidates[candidates.length - 1]!;
  const plugin = candidates.find((p) => p.key === choice);
  if (!plugin) throw new ModelsUnavailableError(`no ${cls} detector ${choice}: one of ${candidates.map((p) => p.key).join(', ')}`);
  if (!plugin.installed(factory)) {
    const missing = plugin.modelCards().filter((c) => !factory.has(c.file) && c.pack);
    if (missing.length > 0) {
      const packs = [...new Set(missing.map((c) => c.pack))].join(' ');
      throw new ModelsUnavailableError(`${cls} detector ${choice} asked for, but ${missing.map((c) => c.file).join(', ')} is not installed: run "anonymiser models fetch ${packs}"`);
    }
  }
  return plugin;
}
