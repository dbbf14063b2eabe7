import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDbClient } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { rowsOf } from '../../src/db/rows.ts';
import { candidates, processes } from '../../src/db/schema.ts';
import { createTestDb, dbBackends, type TestDb } from '../support/db.ts';

const TABLES = [
  'processes',
  'candidates',
  'applications',
  'application_status_history',
  'inbound_messages',
  'outbox',
  'outbox_handled',
  'transcript_entries',
  'message_statuses',
  'conversations',
];

describe.each(dbBackends)('database on %s', (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(backend);
  });
  afterAll(() => t.destroy());

  test('the first migration creates every table DESIGN.md names', async () => {
    const rows = await t.client.db.execute<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public'`,
    );
    const names = rowsOf<{ table_name: string }>(rows).map((r) => r.table_name);
    expect(names).toEqual(expect.arrayContaining(TABLES));
  });

  test('migrating again is a no-op', async () => {
    await migrateDatabase(t.client);
    await t.client.ping();
  });

  test('ids are uuid v7 and unique constraints hold', async () => {
    const [p] = await t.client.db
      .insert(processes)
      .values({
        code: 'DEV1',
        title: 'Dev',
        requirements: { skills: ['ts'] },
        thresholds: { shortlist: 70, reject: 30 },
      })
      .returning();
    expect(p?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    await t.client.db.insert(candidates).values({ phone: '+10000000001' });
    await expect(t.client.db.insert(candidates).values({ phone: '+10000000001' })).rejects.toThrow();
  });
});

describe.runIf(dbBackends.includes('postgres'))('migrations on Postgres', () => {
  test('two instances migrating at once both succeed (advisory lock)', async () => {
    const t = await createTestDb('postgres');
    try {
      const url = t.url as string;
      // Start from an empty database so both clients really race on the same migration.
      await t.client.db.execute(sql`drop schema public cascade; create schema public; drop schema drizzle cascade`);
      const a = createDbClient({ kind: 'postgres', url });
      const b = createDbClient({ kind: 'postgres', url });
      await Promise.all([migrateDatabase(a), migrateDatabase(b)]);
      await a.db.select().from(processes);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await t.destroy();
    }
  });
});
