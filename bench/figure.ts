// One measured figure, printed next to its baseline measured in the same run.
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  baselineName?: string;
  /** value / baseline, or as the figure defines it (higher is better). */
  ratio?: number;
  goal?: string;
}

export function formatFigure(f: Figure): string {
  const v = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));
  const base = f.baseline !== undefined ? `  vs ${f.baselineName ?? 'baseline'} ${v(f.baseline)} ${f.unit}` : '';
  const ratio = f.ratio !== undefined ? `  ratio ${f.ratio.toFixed(2)}` : '';
  const goal = f.goal ? `  (goal ${f.goal})` : '';
  return `${f.name.padEnd(48)} ${v(f.value).padStart(10)} ${f.unit}${base}${ratio}${goal}`;
}
