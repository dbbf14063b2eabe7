import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { createLogger, phoneRef, scrub } from '../../src/logger.ts';

function capture() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
  const logger = createLogger({ level: 'info', destination: stream });
  return { logger, text: () => lines.join('\n') };
}

describe('logger redaction', () => {
  test('sensitive keys are redacted at any logged depth', async () => {
    const { logger, text } = capture();
    logger.info(
      { phone: '+34600111222', candidate: { email: 'ana@example.com', name: 'Ana' }, msg: { body: 'my cv' } },
      'x',
    );
    logger.info({ req: { headers: { authorization: 'Bearer s3cret' } } }, 'y');
    await new Promise((r) => setImmediate(r));
    const out = text();
    for (const secret of ['+34600111222', 'ana@example.com', 'Ana', 'my cv', 's3cret'])
      expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });

  test('free text is scrubbed of emails and phone numbers', async () => {
    const { logger, text } = capture();
    logger.warn('failed for ana@example.com at +34 600 111 222');
    logger.error({ err: new Error('bad address bob@example.org') }, 'boom');
    await new Promise((r) => setImmediate(r));
    const out = text();
    expect(out).not.toContain('example.com');
    expect(out).not.toContain('600 111 222');
    expect(out).not.toContain('bob@example.org');
    expect(out).toContain('[email]');
  });

  test('scrub keeps ordinary numbers and text', () => {
    expect(scrub('took 1234 ms, 3 retries')).toBe('took 1234 ms, 3 retries');
  });

  test('phoneRef is stable and does not contain the number', () => {
    expect(phoneRef('+34600111222')).toBe(phoneRef('+34600111222'));
    expect(phoneRef('+34600111222')).not.toContain('600111222');
  });
});
