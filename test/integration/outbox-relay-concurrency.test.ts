import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { outbox, outboxHandled } from '../../src/db/schema.ts';
import type { EventBus } from '../../src/events/bus.ts';
import { createTestDb, dbBackends, type TestDb } from '../support/db.ts';
import { createTxStack } from '../support/tx.ts';

function createLatch() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A `whatsapp.send` to `to` whose text is `text` (the default ordering key is the phone). */
const sendTo = (to: string, text: string) => ({ message: { kind: 'text' as const, to, text } });

/** Subscribes a sender that logs `start:text` / `end:text` per phone and tracks how many run at once. */
function recordSends(bus: EventBus, hold: (text: string) => Promise<void> | undefined = () => undefined) {
  const byPhone = new Map<string, string[]>();
  const started: string[] = [];
  let active = 0;
  let maxActive = 0;
  bus.subscribe('whatsapp.send', 'sender', async (e) => {
    const { to, kind } = e.payload.message;
    const text = kind === 'text' ? e.payload.message.text : '';
    const log = byPhone.get(to) ?? [];
    byPhone.set(to, log);
    started.push(text);
    log.push(`start:${text}`);
    maxActive = Math.max(maxActive, ++active);
    try {
      await hold(text);
      for (let i = Number(text) % 5; i > 0; i--) await tick(); // unequal durations
    } finally {
      active--;
      log.push(`end:${text}`);
    }
  });
  return { byPhone, started, maxActive: () => maxActive };
}

describe.each(dbBackends)('outbox relay concurrency on %s', (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(backend);
  });
  afterAll(() => t.destroy());

  const stateOf = async (id: string) =>
    (await t.client.db.select({ state: outbox.state }).from(outbox).where(eq(outbox.id, id)))[0]?.state;

  test.each(['dispatch', 'poll loop'] as const)(
    'through %s, a handler blocked on one phone delays neither other phones nor their recording, only its own',
    async (path) => {
      const writer = createTxStack(t.client, { dispatch: path === 'dispatch' });
      const reader = path === 'dispatch' ? writer : createTxStack(t.client);
      const gate = createLatch();
      const sends = recordSends(reader.bus, (text) => (text === 'a1' ? gate.opened : undefined));
      const send = (to: string, text: string) =>
        writer.tm.transactional(async () => writer.tm.addEvent('whatsapp.send', sendTo(to, text)));
      await reader.relay.start();
      try {
        const a1 = await send('+34600000001', 'a1');
        await vi.waitFor(() => expect(sends.started).toEqual(['a1']));
        const a2 = await send('+34600000001', 'a2');
        const b1 = await send('+34600000002', 'b1');
        // b1, committed after a2 and a1, is delivered and recorded while a1 still runs; a2 waits for a1.
        await vi.waitFor(async () => expect(await stateOf(b1)).toBe('delivered'), { timeout: 10_000 });
        expect(sends.started).toEqual(['a1', 'b1']);
        expect(await stateOf(a1)).toBe('pending');
        gate.open();
        await vi.waitFor(async () => expect(await stateOf(a2)).toBe('delivered'), { timeout: 10_000 });
        expect(await stateOf(a1)).toBe('delivered');
        expect(sends.byPhone.get('+34600000001')).toEqual(['start:a1', 'end:a1', 'start:a2', 'end:a2']);
      } finally {
        gate.open();
        await reader.relay.stop();
        if (reader !== writer) await writer.relay.stop();
      }
    },
  );

  test.each(['dispatch', 'poll loop'] as const)(
    'through %s, 200 events over 10 phones run concurrently, each phone one at a time in commit order',
    async (path) => {
      const phones = 10;
      const writer = createTxStack(t.client, { dispatch: path === 'dispatch' });
      const reader = path === 'dispatch' ? writer : createTxStack(t.client, { relay: { batchSize: 25 } });
      const sends = recordSends(reader.bus);
      const expected = new Map<string, string[]>();
      const ids: string[] = [];
      // Ten transactions of twenty events; neighbours share a phone, so unkeyed delivery would overlap them.
      for (let tx = 0; tx < 10; tx++) {
        const committed = await writer.tm.transactional(async () =>
          Array.from({ length: 20 }, (_, i) => {
            const seq = tx * 20 + i;
            const to = `+3460000010${Math.floor(seq / 2) % phones}`;
            expected.set(to, [...(expected.get(to) ?? []), `start:${seq}`, `end:${seq}`]);
            return writer.tm.addEvent('whatsapp.send', sendTo(to, String(seq)));
          }),
        );
        ids.push(...committed);
      }
      try {
        if (path === 'dispatch') {
          await vi.waitFor(() => expect(sends.started).toHaveLength(ids.length), { timeout: 10_000 });
          await writer.relay.stop(); // waits until every result is recorded
        } else {
          expect(await reader.relay.drain()).toBe(ids.length);
        }
      } finally {
        await reader.relay.stop();
        await writer.relay.stop();
      }
      expect(new Map([...sends.byPhone].sort())).toEqual(new Map([...expected].sort()));
      expect(sends.maxActive()).toBeGreaterThan(1);
      expect(sends.maxActive()).toBeLessThanOrEqual(8);
      const states = await t.client.db.select({ state: outbox.state }).from(outbox).where(inArray(outbox.id, ids));
      expect(states.filter((s) => s.state === 'delivered')).toHaveLength(ids.length);
      expect(await t.client.db.$count(outboxHandled, inArray(outboxHandled.eventId, ids))).toBe(ids.length);
    },
  );
});
