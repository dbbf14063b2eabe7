/**
 * The CV extraction worker: a child process the service forks (extract.ts) so a hostile file can only hurt
 * this process, which the parent kills on timeout or memory excess. Requests arrive on stdin and replies
 * leave on fd 3 (stdout stays free for whatever the parsers print), each frame a 4-byte big-endian length
 * followed by the body. Request body: 4-byte header length, JSON header, then the file's bytes.
 */
import { Socket } from 'node:net';
import { type ParseLimits, parseCv } from './parse.ts';

interface Request {
  id: number;
  limits: ParseLimits;
}

const replies = new Socket({ fd: 3, readable: false, writable: true });

function send(message: unknown) {
  const body = Buffer.from(JSON.stringify(message));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  replies.write(Buffer.concat([length, body]));
}

async function handle(frame: Buffer) {
  const headerLength = frame.readUInt32BE(0);
  const header = JSON.parse(frame.subarray(4, 4 + headerLength).toString()) as Request;
  const bytes = frame.subarray(4 + headerLength);
  try {
    send({ id: header.id, result: await parseCv(bytes, header.limits) });
  } catch {
    send({ id: header.id, result: { ok: false, reason: 'corrupt' } });
  }
}

let pending: Buffer = Buffer.alloc(0);
let queue = Promise.resolve();
process.stdin.on('data', (chunk: Buffer) => {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  while (pending.length >= 4) {
    const length = pending.readUInt32BE(0);
    if (pending.length < 4 + length) break;
    const frame = pending.subarray(4, 4 + length);
    pending = pending.subarray(4 + length);
    queue = queue.then(() => handle(frame));
  }
});
// The parent went away: nothing left to do.
process.stdin.on('end', () => process.exit(0));

// Warm the parsers (module graphs, JIT) before declaring readiness, so the first real CV is fast.
const WARM_PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj\n' +
    '4 0 obj<</Length 47>>stream\nBT /F1 12 Tf 10 100 Td (warming up the parser) Tj ET\nendstream\nendobj\n' +
    '5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
  'latin1',
);
await parseCv(WARM_PDF, { maxPages: 1, maxChars: 100, minLetters: 1 }).catch(() => undefined);
send({ ready: true });
