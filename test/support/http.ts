import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** Serves an express app on an ephemeral loopback port. */
export async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: test assertions dig into JSON bodies freely.
export type JsonBody = Record<string, any>;

export async function bodyOf(res: Response): Promise<JsonBody> {
  return (await res.json()) as JsonBody;
}
