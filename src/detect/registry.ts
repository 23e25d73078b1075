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

/** Plugins and which serve each class; the engine composes from one (default: `REGISTRY`). */
export interface Registry {
  /** Every plugin; engine results list detections in this order of their stages. */
  readonly plugins: readonly DetectorPlugin[];
  /**
   * Detectors per class in preference order: `auto` takes the first installed one, and the last one
   * (the bundled models) when none is, whose loading then reports the missing files.
   */
  readonly detectors: Readonly<Record<ObjectClass, readonly DetectorPlugin[]>>;
  /** Refiners per class: run on that class's detections when installed (skipped with a log line when not). */
  readonly refiners: Readonly<Partial<Record<ObjectClass, readonly DetectorPlugin[]>>>;
}

export const REGISTRY: Registry = {
  // Persons and vehicles, faces, plates.
  plugins: [nanodetPlugin, yunetPlugin, faceEnsemblePlugin, ppocrPlatePlugin, selfieMaskPlugin, fullRangePlugin, ssdMobilenetPlugin, mtcnnPlugin, back256Plugin],
  detectors: {
    face: [yunetPlugin, faceEnsemblePlugin],
    'license-plate': [ppocrPlatePlugin],
    person: [nanodetPlugin],
    vehicle: [nanodetPlugin],
  },
  refiners: { person: [selfieMaskPlugin] },
};

/** The registry with `plugin` in place of the plugin of the same key (e.g. one wrapped to observe its stage). */
export function withPlugin(registry: Registry, plugin: DetectorPlugin): Registry {
  const swap = (list: readonly DetectorPlugin[]) => list.map((p) => (p.key === plugin.key ? plugin : p));
  if (!registry.plugins.some((p) => p.key === plugin.key)) throw new TypeError(`no plugin ${plugin.key} in the registry`);
  return {
    plugins: swap(registry.plugins),
    detectors: Object.fromEntries(Object.entries(registry.detectors).map(([c, l]) => [c, swap(l)])) as unknown as Registry['detectors'],
    refiners: Object.fromEntries(Object.entries(registry.refiners).map(([c, l]) => [c, swap(l ?? [])])),
  };
}

export function pluginNamed(key: string, registry: Registry = REGISTRY): DetectorPlugin | undefined {
  return registry.plugins.find((p) => p.key === key);
}

/**
 * The detector for `cls`: `choice` auto takes the first installed one in preference order; a key
 * takes that plugin, which must be installed when it comes from a model pack.
 */
export function detectorFor(cls: ObjectClass, factory: SessionFactory, choice = 'auto', registry: Registry = REGISTRY): DetectorPlugin {
  const candidates = registry.detectors[cls];
  if (candidates.length === 0) throw new ModelsUnavailableError(`no ${cls} detector in the registry`);
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
