/** Small statistics over repeated runs. */
export const median = (values: number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** Median of each numeric field over a list of records with the same shape. */
export const medians = <T extends Record<string, unknown>>(records: T[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const key of Object.keys(records[0] ?? {})) {
    if (typeof records[0]![key] === 'number') out[key] = median(records.map((r) => r[key] as number));
  }
  return out;
};

/** Fisher-Yates, for the order of variants within one round. */
export const shuffled = <T>(items: readonly T[]): T[] => {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
};

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
