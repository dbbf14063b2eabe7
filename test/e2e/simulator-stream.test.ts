import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SimulatorChannel } from '../../src/whatsapp/simulator/channel.ts';
import { startTestApp, type TestApp, until } from '../support/app.ts';
import { createTestDb, dbBackends, type TestDb } from '../support/db.ts';
import { createTestKv, kvBackends, type TestKv } from '../support/kv.ts';

/** The simulator page's event stream over plain HTTP: replay after a reconnect, panel events, closing. */

interface Stream {
  /** Reads until the text received so far satisfies `done`; returns it. */
  until(done: (text: string) => boolean): Promise<string>;
  /** Resolves with everything received once the server ends the stream. */
  ended(): Promise<string>;
  abort(): void;
}

async function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const read = async (stop: () => boolean) => {
    while (!stop()) {
      const chunk = await reader.read();
      if (chunk.done) return true;
      text += chunk.value;
    }
    return false;
  };
  return {
    async until(done) {
      if (await read(() => done(text))) throw new Error(`the stream ended early; got: ${text}`);
      return text;
    },
    async ended() {
      await read(() => false);
      return text;
    },
    abort: () => abort.abort(),
  };
}

const ids = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

const [dbBackend = 'pglite'] = dbBackends;
const [kvBackend = 'memory'] = kvBackends;

describe(`the simulator stream on ${dbBackend} + ${kvBackend}`, () => {
  let db: TestDb;
  let kv: TestKv;
  let t: TestApp;
  let channel: SimulatorChannel;
  const phone = `+3469${String(Date.now()).slice(-7)}`;
  const streamUrl = () => `${t.url}/simulator/api/stream?phone=${encodeURIComponent(phone)}`;

  beforeAll(async () => {
    db = await createTestDb(dbBackend);
    kv = await createTestKv(kvBackend);
    t = await startTestApp({
      overrides: { db: db.client, kv: kv.store },
      env: { WHATSAPP_TRANSPORT: 'simulator', SEED_DEMO: 'true' },
    });
    channel = t.app.channel as SimulatorChannel;
    const res = await fetch(`${t.url}/simulator/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone, text: 'hola' }),
    });
    expect(res.status).toBe(200);
    await until('the consent request', () => channel.feed(phone).some((e) => e.direction === 'out'));
  });
  afterAll(async () => {
    await t?.close();
    await kv?.destroy();
    await db?.destroy();
  });

  test('a new page gets the whole chat; a reconnect only what came after its last event id', async () => {
    const feed = channel.feed(phone).map((e) => e.seq);
    expect(feed.length).toBeGreaterThanOrEqual(2);

    const fresh = await openStream(streamUrl());
    expect(ids(await fresh.until((text) => ids(text).length >= feed.length))).toEqual(feed);
    fresh.abort();

    const resumed = await openStream(streamUrl(), { 'last-event-id': String(feed[0]) });
    const text = await resumed.until((t) => ids(t).length >= feed.length - 1);
    expect(ids(text)).toEqual(feed.slice(1));
    // Opened at once, even before anything is replayed: the browser's EventSource fires `open`.
    expect(text.startsWith('retry: ')).toBe(true);
    resumed.abort();
  });

  test('a recruiter notification tells every open page to refresh its panel', async () => {
    const stream = await openStream(streamUrl());
    await stream.until((text) => text.includes('retry: '));
    channel.recordNotification({ channel: 'webhook', to: 'default webhook', text: 'DEMO1 shortlisted' });
    await stream.until((text) => /^event: panel$/m.test(text));
    stream.abort();
    expect(channel.notifications()[0]).toMatchObject({ channel: 'webhook', text: 'DEMO1 shortlisted' });
  });

  test('closeStreams ends the open pages, so the HTTP server can finish closing', async () => {
    const [a, b] = await Promise.all([openStream(streamUrl()), openStream(streamUrl())]);
    await Promise.all([a.until((text) => ids(text).length > 0), b.until((text) => ids(text).length > 0)]);
    channel.closeStreams();
    const [endedA, endedB] = await Promise.all([a.ended(), b.ended()]);
    expect(ids(endedA).length).toBeGreaterThan(0);
    expect(ids(endedB).length).toBeGreaterThan(0);
  });
});
