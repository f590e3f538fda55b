/**
 * The deduplication ratio from the seed's `optimization` (binaries' size as a share of the
 * artifacts' size): 50% means each stored byte serves two artifact bytes, 2.0×.
 */
export function dedupRatio(optimization: string): string {
  const p = Number.parseFloat(optimization);
  if (!Number.isFinite(p) || p <= 0) return '—';
  return `${(100 / p).toFixed(2)}×`;
}
