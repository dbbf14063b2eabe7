import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createMemoryStore } from '../../../src/cache/memory-store.ts';
import { CHROMIUM_ARGS, createWebJsClient } from '../../../src/whatsapp/web-js.ts';

/** Smoke test: the real whatsapp-web.js Client accepts the project's options. No browser is launched. */
describe('the real whatsapp-web.js Client', () => {
  const wwebjs = createRequire(import.meta.url)('whatsapp-web.js') as typeof import('whatsapp-web.js');
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'war-wwebjs-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  type Built = { options: { puppeteer: Record<string, unknown>; authStrategy: unknown; takeoverOnConflict: boolean } };

  test('is built with LocalAuth in the configured folder and the system Chromium, headless', async () => {
    const client = (await createWebJsClient({
      executablePath: '/usr/bin/chromium',
      auth: { kind: 'local', dataPath: join(dir, 'local') },
    })) as unknown as Built;
    expect(client).toBeInstanceOf(wwebjs.Client);
    expect(client.options.puppeteer).toMatchObject({ executablePath: '/usr/bin/chromium', headless: true });
    expect(client.options.puppeteer.args).toEqual(expect.arrayContaining(CHROMIUM_ARGS));
    expect(client.options.authStrategy).toBeInstanceOf(wwebjs.LocalAuth);
    expect((client.options.authStrategy as { dataPath: string }).dataPath).toBe(join(dir, 'local'));
    expect(client.options.takeoverOnConflict).toBe(true);
  });

  test('is built with RemoteAuth over the Redis store', async () => {
    const kv = createMemoryStore();
    const client = (await createWebJsClient({
      executablePath: '/usr/bin/chromium',
      auth: { kind: 'remote', kv, dataPath: join(dir, 'remote'), clientId: 'war', backupSyncIntervalMs: 1000 },
    })) as unknown as Built;
    const auth = client.options.authStrategy as {
      store: { sessionExists(o: { session: string }): Promise<boolean> };
      clientId: string;
      backupSyncIntervalMs: number;
      dataPath: string;
    };
    expect(auth).toBeInstanceOf(wwebjs.RemoteAuth);
    expect(auth.dataPath).toBe(join(dir, 'remote'));
    await kv.set('wwebjs:RemoteAuth-war', JSON.stringify({ version: 'v', chunks: 0, bytes: 0, sha256: '' }));
    expect(await auth.store.sessionExists({ session: 'RemoteAuth-war' })).toBe(true);
    expect(auth.clientId).toBe('war');
    // RemoteAuth refuses intervals under a minute; the factory raises them.
    expect(auth.backupSyncIntervalMs).toBe(60_000);
  });

  test('installing never downloaded a browser: .puppeteerrc.cjs skips it', async () => {
    const config = createRequire(import.meta.url)('../../../.puppeteerrc.cjs') as { skipDownload?: boolean };
    expect(config.skipDownload).toBe(true);
  });
});
