export { runEvaluation, type EvalOptions, type EvalReport, type ClassReport } from './run.ts';
export { formatEvalTable } from './table.ts';
