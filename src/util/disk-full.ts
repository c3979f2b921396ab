/**
 * Whether a failed write failed for want of space. Node reports it as an
 * errno code; DuckDB only in its message, so both are checked.
 *
 * @module
 */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  return /No space left on device|Disk quota exceeded/i.test(String((error as Error | undefined)?.message ?? ''));
}
