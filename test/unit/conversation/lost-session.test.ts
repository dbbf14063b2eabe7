import { describe, expect, test } from 'vitest';
import { TEXTS } from '../../../src/conversation/texts.ts';
import { factTypes, LONG_CV, reach, replies, tap, text, World } from './world.ts';

/** Found by `npm run proof` (scenario 3, Redis down then back empty): sessions lost at two steps stalled. */
describe('a session lost while the candidate is mid-step', () => {
  test('a tap on the consent prompt after the session was lost records the consent', () => {
    const w = new World();
    w.send(text('hello'));
    w.forgetSession();
    const r = w.send(tap('consent.accept', 'I accept'));
    expect(factTypes(r)).toContain('record_consent');
    expect(replies(r).at(-1)).toMatchObject({ kind: 'list' });
    expect(w.session?.step).toBe('choose_process');
  });

  test('a CV accepted after the session was lost moves on to the first question', () => {
    const w = reach('cv_processing');
    w.forgetSession();
    // What the engine does for a CV read in the background: the text is stored, then the turn runs.
    w.apps[0]!.cvText = LONG_CV;
    const r = w.send({ kind: 'cv_extracted', ok: true, applicationId: w.apps[0]!.id });
    const said = replies(r)
      .map((m) => m.text)
      .join('\n');
    expect(said).toContain(TEXTS.es.cvOk);
    expect(w.session?.step).toBe('question');
  });

  test('a typed yes as the very first message is still a first contact, not a consent', () => {
    const w = new World();
    const r = w.send(text('sí'));
    expect(factTypes(r)).not.toContain('record_consent');
  });
});
