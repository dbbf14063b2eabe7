import { type FakeGraphApi, view } from '../../fakes/graph-api.ts';
import { type MessageKind, messagesPayload } from '../../fakes/whatsapp-payloads.ts';
import { type TestApp, until } from '../../support/app.ts';

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

export { view };
