import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedisRemoteAuthStore, type RemoteAuthStore } from '../../../src/whatsapp/remote-auth-store.ts';
import { createTestKv, kvBackends, type TestKv } from '../../support/kv.ts';

/** A zip like RemoteAuth's: a Default/ profile with IndexedDB and Local Storage, several MB in all. */
async function sessionZip(): Promise<{ zip: Buffer; files: Record<string, Buffer> }> {
  const files: Record<string, Buffer> = {
    'Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb/000003.log': randomBytes(2 * 1024 * 1024),
    'Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.blob/1/00/1': randomBytes(1024 * 1024 + 17),
    'Default/Local Storage/leveldb/000005.ldb': randomBytes(300 * 1024),
    'Default/Local Storage/leveldb/CURRENT': Buffer.from('MANIFEST-000001\n'),
  };
  const zip = new JSZip();
  for (const [name, data] of Object.entries(files)) zip.file(name, data);
  return { zip: await zip.generateAsync({ type: 'nodebuffer', compression: 'STORE' }), files };
}

describe.each(kvBackends)('RemoteAuth store on %s', (backend) => {
  let kv: TestKv;
  let dir: string;
  let store: RemoteAuthStore;
  const session = 'RemoteAuth-war';

  beforeAll(async () => {
    kv = await createTestKv(backend);
    dir = await mkdtemp(join(tmpdir(), 'war-remote-auth-'));
    store = createRedisRemoteAuthStore({ kv: kv.store, dataPath: dir });
  });
  afterAll(async () => {
    await kv.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const manifestVersion = async () => JSON.parse((await kv.store.get(`wwebjs:${session}`)) ?? '{}').version as string;

  test('a zip of several MB round-trips: save, the container loses its disk, extract', async () => {
    const { zip, files } = await sessionZip();
    expect(zip.length).toBeGreaterThan(3 * 1024 * 1024);
    expect(await store.sessionExists({ session })).toBe(false);
    await writeFile(join(dir, `${session}.zip`), zip);
    await store.save({ session });
    await rm(join(dir, `${session}.zip`));

    expect(await store.sessionExists({ session })).toBe(true);
    const restored = join(dir, 'restore', `${session}.zip`);
    await store.extract({ session, path: restored });
    const bytes = await readFile(restored);
    expect(bytes.equals(zip)).toBe(true);
    const unzipped = await JSZip.loadAsync(bytes);
    for (const [name, data] of Object.entries(files)) {
      expect((await unzipped.file(name)?.async('nodebuffer'))?.equals(data)).toBe(true);
    }
  });

  test('saving again replaces the session and drops the previous chunks', async () => {
    const before = await manifestVersion();
    const next = randomBytes(1536 * 1024);
    await writeFile(join(dir, `${session}.zip`), next);
    await store.save({ session });
    expect(await manifestVersion()).not.toBe(before);
    expect(await kv.store.get(`wwebjs:${session}:${before}:0`)).toBeNull();
    const out = join(dir, 'again.zip');
    await store.extract({ session, path: out });
    expect((await readFile(out)).equals(next)).toBe(true);
  });

  test('a damaged chunk is refused instead of restoring a broken profile', async () => {
    const version = await manifestVersion();
    const key = `wwebjs:${session}:${version}:1`;
    const original = (await kv.store.get(key)) as string;
    await kv.store.set(key, Buffer.from('tampered').toString('base64'));
    await expect(store.extract({ session, path: join(dir, 'bad.zip') })).rejects.toThrow(/corrupt/);
    await kv.store.set(key, original);
  });

  test('delete removes the manifest and every chunk', async () => {
    const version = await manifestVersion();
    await store.delete({ session });
    expect(await store.sessionExists({ session })).toBe(false);
    expect(await kv.store.get(`wwebjs:${session}:${version}:0`)).toBeNull();
    await expect(store.extract({ session, path: join(dir, 'gone.zip') })).rejects.toThrow(/no session/);
  });

  test('session names cannot escape the key space or the data folder', async () => {
    await expect(store.sessionExists({ session: '../etc/passwd' })).rejects.toThrow(/invalid session/);
    await expect(store.save({ session: 'a b' })).rejects.toThrow(/invalid session/);
  });

  test("whatsapp-web.js' own RemoteAuth strategy stores and restores a profile through it", async () => {
    const require = createRequire(import.meta.url);
    const { RemoteAuth } = require('whatsapp-web.js') as typeof import('whatsapp-web.js');
    const dataPath = join(dir, 'wwebjs');
    // The store must look for the zip where RemoteAuth writes it: the same dataPath.
    const store = createRedisRemoteAuthStore({ kv: kv.store, dataPath });
    const auth = new RemoteAuth({ store, dataPath, clientId: 'war', backupSyncIntervalMs: 60_000 }) as unknown as {
      setup(client: unknown): void;
      beforeBrowserInitialized(): Promise<void>;
      storeRemoteSession(options?: { emit?: boolean }): Promise<void>;
      userDataDir: string;
    };
    const client = { options: { puppeteer: {} as { userDataDir?: string } }, emit: () => true };
    auth.setup(client);
    await auth.beforeBrowserInitialized();
    expect(client.options.puppeteer.userDataDir).toBe(join(dataPath, 'RemoteAuth-war'));

    // What Chromium would leave in the profile after a login.
    const indexed = randomBytes(2 * 1024 * 1024);
    const local = randomBytes(128 * 1024);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(auth.userDataDir, 'Default', 'IndexedDB'), { recursive: true });
    await mkdir(join(auth.userDataDir, 'Default', 'Local Storage'), { recursive: true });
    await mkdir(join(auth.userDataDir, 'Default', 'Cache'), { recursive: true });
    await writeFile(join(auth.userDataDir, 'Default', 'IndexedDB', 'wa.ldb'), indexed);
    await writeFile(join(auth.userDataDir, 'Default', 'Local Storage', 'ls.ldb'), local);
    await writeFile(join(auth.userDataDir, 'Default', 'Cache', 'big.bin'), randomBytes(1024));
    await auth.storeRemoteSession({ emit: true });
    expect(await store.sessionExists({ session: 'RemoteAuth-war' })).toBe(true);

    // A new container: nothing on disk, the profile comes back from the store.
    await rm(dataPath, { recursive: true, force: true });
    await auth.beforeBrowserInitialized();
    expect((await readFile(join(auth.userDataDir, 'Default', 'IndexedDB', 'wa.ldb'))).equals(indexed)).toBe(true);
    expect((await readFile(join(auth.userDataDir, 'Default', 'Local Storage', 'ls.ldb'))).equals(local)).toBe(true);
    // Only the directories RemoteAuth needs travel; caches do not.
    expect(await readdir(join(auth.userDataDir, 'Default'))).not.toContain('Cache');
    await store.delete({ session: 'RemoteAuth-war' });
  });
});
