import type { FakeGraphApi, SentMessage } from '../../fakes/graph-api.ts';
import { type MessageKind, messagesPayload } from '../../fakes/whatsapp-payloads.ts';
import { type TestApp, until } from '../../support/app.ts';
import type { JsonBody } from '../../support/http.ts';

/** What a sent Graph API message shows the candidate: its text and its button/row ids. */
export function view(m: SentMessage): { text: string; ids: string[] } {
  const body = m.body as JsonBody;
  if (body.type === 'text') return { text: body.text.body, ids: [] };
  if (body.type === 'interactive') {
    const i = body.interactive;
    const ids =
      i.type === 'button'
        ? i.action.buttons.map((b: { reply: { id: string } }) => b.reply.id)
        : i.action.sections.flatMap((s: { rows: { id: string }[] }) => s.rows.map((r) => r.id));
    return { text: i.body.text, ids };
  }
  if (body.type === 'template') return { text: JSON.stringify(body.template), ids: [] };
  return { text: '', ids: [] };
}

/** A candidate's phone: sends signed webhook deliveries and reads the bot's replies from the fake Graph API. */
export function candidatePhone(app: TestApp, graph: FakeGraphApi, waId: string) {
  let seen = 0;
  const replies = () => graph.sentTo(waId).map(view);
  return {
    waId,
    phone: `+${waId}`,
    replies,
    /** Sends one message and waits until the replies since it satisfy `done`; returns them. */
    async say(kind: MessageKind, done: (r: { text: string; ids: string[] }[]) => boolean, label?: string) {
      const status = await app.postWebhook(messagesPayload([kind], { waId, name: 'Test Candidate' }));
      if (status !== 200) throw new Error(`webhook answered ${status}`);
      const got = await until(label ?? `replies to ${JSON.stringify(kind)}`, () => {
        const fresh = replies().slice(seen);
        return done(fresh) ? fresh : undefined;
      }).catch((err: Error) => {
        throw new Error(`${err.message}; replies since: ${JSON.stringify(replies().slice(seen))}`);
      });
      seen += got.length;
      return got;
    },
    /** Marks everything received so far as seen. */
    skip() {
      seen = replies().length;
    },
  };
}

export const hasIds =
  (...ids: string[]) =>
  (r: { ids: string[] }[]) =>
    r.some((m) => ids.every((id) => m.ids.includes(id)));
export const hasText = (pattern: RegExp) => (r: { text: string }[]) => r.some((m) => pattern.test(m.text));
