import type { Database } from './client.ts';

/** What repositories receive: `db` is the ambient transaction when there is one, the root database otherwise. */
export interface DbAccess {
  readonly db: Database;
}
