import { readFileSync } from 'node:fs';
import express, { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { FeedEntry, SimulatorChannel } from './channel.ts';

const PAGE = readFileSync(new URL('./page.html', import.meta.url), 'utf8');
const phone = z.string().regex(/^\+[1-9]\d{6,14}$/, 'an international number such as +34600123456');
const MessageBody = z
  .object({
    phone,
    text: z.string().max(4096).optional(),
    replyId: z.string().max(200).optional(),
  })
  .refine((b) => b.text || b.replyId, { message: 'text or replyId is required' });

export interface SimulatorApplication {
  processTitle: string;
  status: string;
  score: number | null;
}

/** The chat page and its small JSON/SSE API, served at /simulator. */
export function createSimulatorRouter(deps: {
  channel: SimulatorChannel;
  maxUploadBytes: number;
  listApplications(phone: string): Promise<SimulatorApplication[]>;
}): Router {
  const router = Router();
  const { channel } = deps;

  router.get('/simulator', (_req, res) => {
    // The page is self-contained: inline script and styles, same-origin fetches only.
    res.setHeader(
      'content-security-policy',
      "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
    );
    res.type('html').send(PAGE);
  });

  router.post('/simulator/api/messages', async (req, res) => {
    const body = MessageBody.parse(req.body);
    await channel.receive(body.phone, {
      type: body.replyId ? 'interactive' : 'text',
      text: body.text,
      replyId: body.replyId,
    });
    res.json({ ok: true });
  });

  router.post(
    '/simulator/api/documents',
    express.raw({ type: () => true, limit: deps.maxUploadBytes }),
    async (req, res) => {
      const p = phone.parse(req.query.phone);
      const filename = z.string().min(1).max(200).catch('document').parse(req.query.filename);
      if (!Buffer.isBuffer(req.body) || req.body.length === 0)
        throw new AppError('bad_request', 'Send the file as the request body');
      const media = channel.storeUpload(req.body, filename, req.get('content-type'));
      await channel.receive(p, { type: 'document', media, text: filename });
      res.json({ ok: true });
    },
  );

  router.get('/simulator/api/stream', (req, res) => {
    const p = phone.parse(req.query.phone);
    // A reconnecting EventSource sends the last id it saw: replay only what came after it.
    const lastSeq = Number(req.get('last-event-id')) || 0;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    // Written at once, so the browser sees the stream open even when the feed is empty.
    res.write('retry: 2000\n\n');
    const write = (entry: FeedEntry) => res.write(`id: ${entry.seq}\ndata: ${JSON.stringify(entry)}\n\n`);
    for (const entry of channel.feed(p, lastSeq)) write(entry);
    const unsubscribe = channel.subscribe(p, write);
    const unsubscribePanel = channel.onPanelChange(() => res.write('event: panel\ndata: {}\n\n'));
    const unsubscribeClose = channel.onCloseStreams(() => res.end());
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
      unsubscribePanel();
      unsubscribeClose();
    });
  });

  router.get('/simulator/api/state', async (req, res) => {
    const p = phone.parse(req.query.phone);
    res.json({ applications: await deps.listApplications(p), notifications: channel.notifications() });
  });

  return router;
}
