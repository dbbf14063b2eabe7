import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A recruiter's webhook endpoint on loopback: records every delivery, can be told to fail the next N. */
export async function startWebhookReceiver() {
  const deliveries: Delivery[] = [];
  let failNext = 0;
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = failNext > 0 ? 503 : 200;
      if (failNext > 0) failNext--;
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString(), status });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    /** Successful deliveries only. */
    accepted: () => deliveries.filter((d) => d.status === 200),
    failNext(n: number) {
      failNext = n;
    },
    /** Resolves once `predicate` holds (checked after each delivery), or rejects after `timeoutMs`. */
    async waitFor(predicate: () => boolean, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline)
          throw new Error(`webhook receiver: condition not met; ${deliveries.length} deliveries`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
