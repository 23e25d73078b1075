import type { EvalReport } from './run.ts';

function fmt(v: number, digits = 3): string {
  return Number.isNaN(v) ? '-' : v.toFixed(digits);
}

/** The evaluation report as a fixed-width text table for the terminal. */
export function formatEvalTable(report: EvalReport): string {
  const header = ['class', 'images', 'gt', 'recall@0.5', 'coverage', 'small(<20px)', 'precision', 'FP/image'];
  const rows = report.classes.map((c) => [
    c.cls,
    String(c.images),
    String(c.tally.truth),
    fmt(c.recallAtIou),
    fmt(c.coverageRecall),
    `${fmt(c.smallCoverageRecall)} (${c.tally.smallTruth})`,
    fmt(c.precision),
    fmt(c.falsePositivesPerImage, 2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const stages = Object.entries(report.stageMs).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ');
  return [
    `dataset ${report.dataset}: ${report.images} images, provider ${report.provider}${report.faceDetector ? `, faces by ${report.faceDetector}` : ''}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    `engine time per image: ${report.msPerImage.toFixed(0)} ms${stages ? ` (${stages})` : ''}`,
  ].join('\n');
}
