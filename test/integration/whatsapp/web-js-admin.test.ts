import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../../../src/http/app.ts';
import { createLogger } from '../../../src/logger.ts';
import { createHttpMetrics, createMetricsRegistry } from '../../../src/observability/metrics.ts';
import { createWebJsChannel, type WebJsChannel } from '../../../src/whatsapp/web-js.ts';
import { createWhatsAppSessionRouter } from '../../../src/whatsapp/web-js-admin.ts';
import { FakeWebJsClient } from '../../fakes/webjs-client.ts';
import { bodyOf, listen } from '../../support/http.ts';

describe('whatsapp-web.js session admin endpoints', () => {
  const logger = createLogger({ level: 'silent' });
  const client = new FakeWebJsClient();
  let channel: WebJsChannel;
  let server: Awaited<ReturnType<typeof listen>>;
  const auth = { authorization: 'Bearer admin-secret' };

  beforeAll(async () => {
    channel = createWebJsChannel({ client, logger, qrOutput: null });
    await channel.start({ onMessages: async () => {} });
    const router = createWhatsAppSessionRouter({ channel, adminToken: 'admin-secret' });
    server = await listen(
      createApp({ logger, metrics: createHttpMetrics(createMetricsRegistry()), routers: [router] }),
    );
  });
  afterAll(async () => {
    await server.close();
    await channel.stop();
  });

  test('need the admin token', async () => {
    expect((await fetch(`${server.url}/api/whatsapp/session`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/whatsapp/qr.png`)).status).toBe(401);
  });

  test('show the pending QR code, then the logged-in state', async () => {
    client.emit('qr', '2@abcdefghijklmnopqrstuvwxyz0123456789');
    const session = await bodyOf(await fetch(`${server.url}/api/whatsapp/session`, { headers: auth }));
    expect(session).toMatchObject({ ok: false, state: 'qr' });
    expect(session.qr).toMatch(/^data:image\/png;base64,/);
    const png = await fetch(`${server.url}/api/whatsapp/qr.png`, { headers: auth });
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await png.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');

    client.emit('ready');
    expect(await bodyOf(await fetch(`${server.url}/api/whatsapp/session`, { headers: auth }))).toMatchObject({
      ok: true,
      state: 'ready',
      qr: null,
    });
    expect((await fetch(`${server.url}/api/whatsapp/qr.png`, { headers: auth })).status).toBe(404);
  });
});
