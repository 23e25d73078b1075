// The fast subset of the hostile-input suite, part of `npm test`. The whole suite: `npm run test:hostile`.
import { registerHostileSuite } from './run.ts';
import { fastSubset } from './cases.ts';

// a handful of each other dialect's groups
const DIALECT_FAST = Object.fromEntries(['maskit', 'pekat', 'instavid'].flatMap((d) => ['corrupt', 'foreign', 'bomb', 'multipart', 'field', 'id', 'query', 'raw', 'json'].map((g) => [`${d}-${g}`, 3])));

registerHostileSuite((all) =>
  fastSubset(all, { truncation: 9, flip: 8, bomb: 14, foreign: 8, multipart: 10, id: 8, query: 16, ssrf: 10, wire: 16, ...DIALECT_FAST }),
);
