import { createHash } from 'node:crypto';
import { constants, deflateRawSync, deflateSync } from 'node:zlib';
import JSZip from 'jszip';
import { PDFDocument, rgb, StandardFonts } from 'pdf-lib';

/**
 * Real-shaped CV files for the extraction tests and the benchmark, generated in code: text PDFs (pdf-lib),
 * DOCX (a minimal WordprocessingML package), a scanned-like PDF, an encrypted PDF (RC4 standard security
 * handler), a decompression bomb and an executable.
 */

export const sampleCvLines = [
  'Ana García López',
  'Senior Backend Engineer · Madrid, Spain',
  'ana.garcia@example.com',
  '',
  'Summary',
  'Backend engineer building payment and logistics platforms with TypeScript and Node.js.',
  '',
  'Experience',
  'Senior Backend Engineer, Acme Payments — 03/2019 - present',
  'Designed event-driven services in TypeScript and Node.js on PostgreSQL and Redis.',
  'Ran Docker workloads on Kubernetes in AWS; introduced CI with GitHub Actions.',
  'Backend Developer, Logistica SL — 01/2015 - 02/2019',
  'Built REST APIs in Java and Spring Boot; migrated reporting to PostgreSQL.',
  '',
  'Education',
  'BSc Computer Science, Universidad Politécnica de Madrid, 2014',
  '',
  'Languages',
  'Spanish (native), English (C1), French (B1)',
];

export const sampleCvText = sampleCvLines.join('\n');

interface PdfOptions {
  /** Lines drawn at 1 pt: present in the file, unreadable on paper. */
  tinyLines?: string[];
  /** Lines drawn in white on white. */
  whiteLines?: string[];
}

/** A text PDF, one array of lines per page. */
export async function buildTextPdf(pages: string[][], options: PdfOptions = {}): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  pages.forEach((lines, index) => {
    const page = doc.addPage([595, 842]);
    lines.forEach((line, i) => {
      page.drawText(toWinAnsi(line), { x: 50, y: 790 - i * 16, size: 10, font });
    });
    if (index === 0) {
      (options.tinyLines ?? []).forEach((line, i) => {
        page.drawText(line, { x: 50, y: 60 + i * 2, size: 1, font });
      });
      (options.whiteLines ?? []).forEach((line, i) => {
        page.drawText(line, { x: 50, y: 120 + i * 12, size: 9, font, color: rgb(1, 1, 1) });
      });
    }
  });
  return Buffer.from(await doc.save());
}

/** Helvetica (WinAnsi) has no glyph for some characters: keep the test files drawable. */
function toWinAnsi(text: string): string {
  return text.replace(/[—–]/g, '-').replace(/·/g, '-');
}

/** A CV spread over `pages` pages of the sample text. */
export function buildCvPdf(pages = 2, options: PdfOptions = {}): Promise<Buffer> {
  const perPage = Array.from({ length: pages }, (_, p) =>
    p === 0 ? sampleCvLines : sampleCvLines.map((line) => (line ? `${line} (page ${p + 1})` : line)),
  );
  return buildTextPdf(perPage, options);
}

/** A "scanned" CV: each page is one image and no text, like a photocopy saved as PDF. */
export async function buildScannedPdf(pages = 1): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const png = await doc.embedPng(buildNoisePng(200, 280));
  for (let p = 0; p < pages; p++) {
    const page = doc.addPage([595, 842]);
    page.drawImage(png, { x: 0, y: 0, width: 595, height: 842 });
  }
  return Buffer.from(await doc.save());
}

/** A DOCX with one paragraph per line; `tinyRuns` are added in 1 pt text. */
export async function buildDocx(lines: string[], options: { tinyRuns?: string[] } = {}): Promise<Buffer> {
  const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const paragraph = (line: string, size?: number) =>
    `<w:p><w:r>${size ? `<w:rPr><w:sz w:val="${size}"/></w:rPr>` : ''}<w:t xml:space="preserve">${escapeXml(line)}</w:t></w:r></w:p>`;
  const body = [...lines.map((l) => paragraph(l)), ...(options.tinyRuns ?? []).map((l) => paragraph(l, 2))].join('');
  const zip = new JSZip();
  zip.file(
    '[Content_Types].xml',
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
  );
  zip.file(
    '_rels/.rels',
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
  );
  zip.file(
    'word/document.xml',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
  );
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/** The first bytes of an ELF executable followed by noise (what a ".pdf" from a malicious sender may be). */
export function buildExecutable(): Buffer {
  const header = Buffer.from([
    0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x3e,
  ]);
  return Buffer.concat([header, createHash('sha512').update('not a cv').digest(), Buffer.alloc(4096, 0x90)]);
}

// ---------------------------------------------------------------------------------------------------------
// Hand-built PDFs (pdf-lib can neither encrypt nor write a stream it did not compress itself).

function rawPdf(objects: Buffer[], trailerExtra = ''): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    const chunk = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    parts.push(chunk);
    length += chunk.length;
  });
  const xref =
    `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n` +
    offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('') +
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailerExtra} >>\nstartxref\n${length}\n%%EOF\n`;
  parts.push(Buffer.from(xref, 'latin1'));
  return Buffer.concat(parts);
}

const str = (s: string) => Buffer.from(s, 'latin1');
const stream = (dict: string, data: Buffer) =>
  Buffer.concat([str(`<< ${dict} /Length ${data.length} >>\nstream\n`), data, str('\nendstream')]);

function onePagePdfObjects(content: Buffer, contentDict: string): Buffer[] {
  return [
    str('<< /Type /Catalog /Pages 2 0 R >>'),
    str('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    str(
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    ),
    stream(contentDict, content),
    str('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'),
  ];
}

function textContentStream(lines: string[]): Buffer {
  const esc = (s: string) => s.replace(/[\\()]/g, (c) => `\\${c}`);
  return str(`BT /F1 10 Tf 14 TL 50 790 Td ${lines.map((l) => `(${esc(toWinAnsi(l))}) Tj T*`).join(' ')} ET`);
}

/**
 * A PDF whose single content stream inflates to `inflatedBytes` zeros (1 GiB by default) from about a
 * thousandth of that on disk. Deflate output for a run of zeros is periodic once the window is all zeros, so
 * one sync-flushed block is compressed against a zero dictionary and repeated: no gigabyte is ever allocated.
 */
export function buildBombPdf(inflatedBytes = 1024 ** 3): Buffer {
  const chunk = 1 << 20;
  const count = Math.max(1, Math.round(inflatedBytes / chunk));
  const zeros = Buffer.alloc(chunk);
  const first = deflateRawSync(zeros, { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const next = deflateRawSync(zeros, {
    level: 9,
    dictionary: Buffer.alloc(32 * 1024),
    finishFlush: constants.Z_SYNC_FLUSH,
  });
  const total = count * chunk;
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((total % 65521) << 16) | 1) >>> 0);
  const zlibStream = Buffer.concat([
    Buffer.from([0x78, 0xda]),
    first,
    ...Array.from({ length: count - 1 }, () => next),
    Buffer.from([0x03, 0x00]), // final, empty fixed-Huffman block
    adler,
  ]);
  return rawPdf(onePagePdfObjects(zlibStream, '/Filter /FlateDecode'));
}

/** A compressed text PDF built by hand (the "control" for the bomb: same structure, sane stream). */
export function buildHandmadePdf(lines: string[]): Buffer {
  return rawPdf(onePagePdfObjects(deflateSync(textContentStream(lines)), '/Filter /FlateDecode'));
}

const PASSWORD_PAD = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');

function rc4(key: Buffer, data: Buffer): Buffer {
  const s = Array.from({ length: 256 }, (_, i) => i);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 255;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  const out = Buffer.alloc(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 255;
    j = (j + s[i]!) & 255;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 255]!;
  }
  return out;
}

const md5 = (...parts: Buffer[]) => createHash('md5').update(Buffer.concat(parts)).digest();
const padPassword = (pw: string) => Buffer.concat([Buffer.from(pw, 'latin1'), PASSWORD_PAD]).subarray(0, 32);

/** A PDF encrypted with a user password (standard security handler, revision 2, RC4 40-bit). */
export function buildEncryptedPdf(lines: string[], userPassword = 'secret', ownerPassword = 'owner'): Buffer {
  const permissions = -44;
  const id = md5(Buffer.from('wa-recruiter-test'));
  const owner = rc4(md5(padPassword(ownerPassword)).subarray(0, 5), padPassword(userPassword));
  const p = Buffer.alloc(4);
  p.writeInt32LE(permissions);
  const key = md5(padPassword(userPassword), owner, p, id).subarray(0, 5);
  const user = rc4(key, PASSWORD_PAD);
  const objectKey = (num: number) =>
    md5(key, Buffer.from([num & 255, (num >> 8) & 255, (num >> 16) & 255, 0, 0])).subarray(0, 10);
  const objects = onePagePdfObjects(rc4(objectKey(4), textContentStream(lines)), '');
  objects.push(
    str(
      `<< /Filter /Standard /V 1 /R 2 /O <${owner.toString('hex')}> /U <${user.toString('hex')}> /P ${permissions} >>`,
    ),
  );
  const idHex = id.toString('hex');
  return rawPdf(objects, `/Encrypt 6 0 R /ID [<${idHex}> <${idHex}>]`);
}

// ---------------------------------------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 255]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A grey-scale PNG of pseudo-random speckles (a stand-in for a scanned page). */
function buildNoisePng(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grey-scale
  const rows: Buffer[] = [];
  let seed = 42;
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(width + 1);
    for (let x = 1; x <= width; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      row[x] = seed % 7 === 0 ? 20 : 235;
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.concat(rows))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
