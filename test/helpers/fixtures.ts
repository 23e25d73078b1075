import { fileURLToPath } from 'node:url';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** A real photograph with several frontal faces (licence in test/fixtures/SOURCES.md). */
export const FACE_PHOTO = fixture('faces.jpg');

/** Weights not committed into the project (CI has ../shared): the model packs' files, by file name. */
export const MODELS_EXTRA = fileURLToPath(new URL('../../../shared/models-extra', import.meta.url));
