export { runEvaluation, type EvalOptions, type EvalReport, type ClassReport } from './run.ts';
export { formatEvalTable } from './table.ts';
export { runPackEvaluations, PACK_MODES, type PackMode, type LabelledReport } from './packs.ts';
