import { asc, eq, sql } from 'drizzle-orm';
import type { DbAccess } from '../db/access.ts';
import { processes } from '../db/schema.ts';

export type ProcessRow = typeof processes.$inferSelect;
export type NewProcess = typeof processes.$inferInsert;

export function createProcessRepository(access: DbAccess) {
  return {
    async insert(values: NewProcess): Promise<ProcessRow> {
      const [row] = await access.db.insert(processes).values(values).returning();
      return row as ProcessRow;
    },
    async findById(id: string): Promise<ProcessRow | undefined> {
      const [row] = await access.db.select().from(processes).where(eq(processes.id, id));
      return row;
    },
    async findByCode(code: string): Promise<ProcessRow | undefined> {
      const [row] = await access.db.select().from(processes).where(eq(processes.code, code));
      return row;
    },
    /** Locks the row for the rest of the transaction (status changes). */
    async lockById(id: string): Promise<ProcessRow | undefined> {
      const [row] = await access.db.select().from(processes).where(eq(processes.id, id)).for('update');
      return row;
    },
    async list({ status, limit, offset }: { status?: ProcessRow['status']; limit: number; offset: number }) {
      const where = status ? eq(processes.status, status) : undefined;
      const [rows, [total]] = await Promise.all([
        access.db.select().from(processes).where(where).orderBy(asc(processes.createdAt)).limit(limit).offset(offset),
        access.db.select({ n: sql<number>`count(*)::int` }).from(processes).where(where),
      ]);
      return { items: rows, total: total?.n ?? 0 };
    },
    async listOpen(): Promise<ProcessRow[]> {
      return access.db.select().from(processes).where(eq(processes.status, 'open')).orderBy(asc(processes.code));
    },
    async update(id: string, values: Partial<NewProcess>): Promise<ProcessRow | undefined> {
      const [row] = await access.db
        .update(processes)
        .set({ ...values, updatedAt: new Date() })
        .where(eq(processes.id, id))
        .returning();
      return row;
    },
  };
}
export type ProcessRepository = ReturnType<typeof createProcessRepository>;
