import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from '../logger.ts';

/**
 * The key-value operations the store needs: a KvStore (Redis in production) satisfies it as is.
 * Values are base64 strings, so any string store works.
 */
export interface SessionKv {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  del(keys: string[]): Promise<unknown>;
}

/** whatsapp-web.js' `RemoteAuth` store contract (`Store` in its typings). */
export interface RemoteAuthStore {
  sessionExists(options: { session: string }): Promise<boolean>;
  /** Uploads `<dataPath>/<session>.zip`, which RemoteAuth has just written. */
  save(options: { session: string }): Promise<void>;
  /** Writes the stored zip to `path`. */
  extract(options: { session: string; path: string }): Promise<void>;
  delete(options: { session: string }): Promise<void>;
}

export interface RedisRemoteAuthStoreOptions {
  kv: SessionKv;
  /** The `dataPath` given to RemoteAuth: where it writes `<session>.zip` before calling `save`. */
  dataPath: string;
  /** Prefix of this store's keys inside the kv (which may add its own). */
  keyPrefix?: string;
  /** Bytes of zip per kv value (the zip is split so no single value grows huge). */
  chunkBytes?: number;
  logger?: Logger;
}

interface Manifest {
  version: string;
  chunks: number;
  bytes: number;
  sha256: string;
  savedAt: string;
}

const SESSION_NAME = /^[\w-]{1,100}$/;

/**
 * A RemoteAuth store on Redis: the session zip is split into chunks written under a new version,
 * then a manifest (size, sha256, chunk count) is switched to it and the previous version's chunks
 * are deleted, so a crash mid-save leaves the last complete session readable.
 */
export function createRedisRemoteAuthStore({
  kv,
  dataPath,
  keyPrefix = 'wwebjs:',
  chunkBytes = 512 * 1024,
  logger,
}: RedisRemoteAuthStoreOptions): RemoteAuthStore {
  const manifestKey = (session: string) => `${keyPrefix}${session}`;
  const chunkKey = (session: string, version: string, i: number) => `${keyPrefix}${session}:${version}:${i}`;

  async function readManifest(session: string): Promise<Manifest | undefined> {
    const raw = await kv.get(manifestKey(session));
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as Manifest;
    } catch {
      return undefined;
    }
  }

  const chunkKeysOf = (session: string, m: Manifest) =>
    Array.from({ length: m.chunks }, (_, i) => chunkKey(session, m.version, i));

  async function zipPathOf(session: string): Promise<string> {
    // Current whatsapp-web.js writes the zip into dataPath; older releases wrote it to the working directory.
    const candidates = [join(dataPath, `${session}.zip`), resolve(`${session}.zip`)];
    for (const p of candidates) {
      if (
        await access(p).then(
          () => true,
          () => false,
        )
      )
        return p;
    }
    throw new Error(`RemoteAuth store: no ${session}.zip to save in ${dataPath}`);
  }

  return {
    async sessionExists({ session }) {
      checked(session);
      return (await readManifest(session)) !== undefined;
    },

    async save({ session }) {
      checked(session);
      const data = await readFile(await zipPathOf(session));
      const previous = await readManifest(session);
      const version = randomBytes(6).toString('hex');
      const chunks = Math.max(1, Math.ceil(data.length / chunkBytes));
      for (let i = 0; i < chunks; i++) {
        await kv.set(
          chunkKey(session, version, i),
          data.subarray(i * chunkBytes, (i + 1) * chunkBytes).toString('base64'),
        );
      }
      const manifest: Manifest = {
        version,
        chunks,
        bytes: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
        savedAt: new Date().toISOString(),
      };
      await kv.set(manifestKey(session), JSON.stringify(manifest));
      if (previous && previous.version !== version) await kv.del(chunkKeysOf(session, previous));
      logger?.info({ session, bytes: data.length, chunks }, 'whatsapp-web.js session saved to the remote store');
    },

    async extract({ session, path }) {
      checked(session);
      const manifest = await readManifest(session);
      if (!manifest) throw new Error(`RemoteAuth store: no session ${session}`);
      const parts = await Promise.all(chunkKeysOf(session, manifest).map((k) => kv.get(k)));
      if (parts.some((p) => p === null)) throw new Error(`RemoteAuth store: session ${session} is incomplete`);
      const data = Buffer.concat(parts.map((p) => Buffer.from(p as string, 'base64')));
      const sha256 = createHash('sha256').update(data).digest('hex');
      if (data.length !== manifest.bytes || sha256 !== manifest.sha256) {
        throw new Error(`RemoteAuth store: session ${session} is corrupt`);
      }
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, data);
    },

    async delete({ session }) {
      checked(session);
      const manifest = await readManifest(session);
      await kv.del([manifestKey(session), ...(manifest ? chunkKeysOf(session, manifest) : [])]);
    },
  };
}

function checked(session: string): string {
  if (!SESSION_NAME.test(session)) throw new Error('RemoteAuth store: invalid session name');
  return session;
}
