// The whole hostile-input suite (`npm run test:hostile`): every generated case.
import { registerHostileSuite } from './run.ts';

registerHostileSuite((all) => all);
