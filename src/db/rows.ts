/** The rows of `db.execute()`, whichever driver answered (postgres.js returns an array, PGlite `{ rows }`). */
export function rowsOf<T = unknown>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
