// Developer entry point until the CLI's `anonymiser eval` is wired:
//   node --import tsx src/eval/cli-dev.ts <dataset> [classes,comma,separated] [limit]
import { OBJECT_CLASSES, type ObjectClass } from '../types.ts';
import { formatEvalTable, runEvaluation } from './index.ts';

const [dataset = '../shared/eval', classArg, limitArg] = process.argv.slice(2);
const classes = classArg ? (classArg.split(',') as ObjectClass[]) : [...OBJECT_CLASSES];
const report = await runEvaluation({
  dataset,
  classes,
  limit: limitArg ? Number(limitArg) : undefined,
  log: (message) => console.error(message),
});
console.log(formatEvalTable(report));
