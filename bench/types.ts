export interface BenchRow {
  /** What was measured, e.g. "headless start → /health 200 (median of 10)". */
  name: string;
  value: number;
  unit: string;
  /** Human-readable goal, e.g. "≤ 1000 ms". */
  goal?: string;
  pass?: boolean;
  note?: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
