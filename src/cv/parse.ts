import { fileTypeFromBuffer } from 'file-type';
import mammoth from 'mammoth';
import { getDocumentProxy } from 'unpdf';
import { normalizeCvText, truncateText } from './normalize.ts';

export type CvKind = 'pdf' | 'docx' | 'text';
export type ExtractFailureReason =
  | 'too_large'
  | 'too_many_pages'
  | 'scanned'
  | 'encrypted'
  | 'corrupt'
  | 'unsupported'
  | 'timeout'
  | 'too_short';

export type ExtractResult =
  | {
      ok: true;
      /** Normalized text a reader of the document sees, cut to `maxChars`. */
      text: string;
      kind: CvKind;
      pages?: number;
      /** True when the text was cut to `maxChars`. */
      truncated?: boolean;
      /** Text present in the file but invisible to a reader (tiny or off-page); kept out of `text`. */
      hiddenText?: string[];
    }
  | { ok: false; reason: ExtractFailureReason };

export interface ParseLimits {
  maxPages: number;
  maxChars: number;
  /** Fewer letters than this is no CV: `scanned` for a PDF, `too_short` otherwise. */
  minLetters: number;
}

/** Below this font size (points) text is unreadable on paper: a way to hide words from the recruiter. */
const TINY_FONT_PT = 2.5;
const MAX_HIDDEN_PARTS = 20;
const MAX_HIDDEN_CHARS = 2_000;

/**
 * Extracts a CV's text from its bytes. The real type comes from the magic bytes, never from a name or a
 * mime type. Runs inside the isolated extraction worker (see extract.ts): a hostile file may use a lot
 * of memory or time here, and the parent kills the worker when it does.
 */
export async function parseCv(bytes: Uint8Array, limits: ParseLimits): Promise<ExtractResult> {
  const type = await fileTypeFromBuffer(bytes);
  if (!type) return parseText(bytes, limits);
  if (type.ext === 'pdf') return parsePdf(bytes, limits);
  if (type.ext === 'docx') return parseDocx(bytes, limits);
  return { ok: false, reason: 'unsupported' };
}

function finish(
  raw: string,
  kind: CvKind,
  limits: ParseLimits,
  extra: { pages?: number; hidden?: string[] } = {},
): ExtractResult {
  const normalized = normalizeCvText(raw);
  if (countLetters(normalized) < limits.minLetters) {
    return { ok: false, reason: kind === 'pdf' ? 'scanned' : 'too_short' };
  }
  const text = truncateText(normalized, limits.maxChars);
  const hiddenText = cleanHidden(extra.hidden ?? []);
  return {
    ok: true,
    text,
    kind,
    ...(extra.pages !== undefined && { pages: extra.pages }),
    ...(text.length < normalized.length && { truncated: true }),
    ...(hiddenText.length > 0 && { hiddenText }),
  };
}

function countLetters(text: string): number {
  return text.match(/\p{L}/gu)?.length ?? 0;
}

function cleanHidden(parts: string[]): string[] {
  const out: string[] = [];
  let total = 0;
  for (const part of parts) {
    const clean = normalizeCvText(part);
    if (!clean || out.length >= MAX_HIDDEN_PARTS || total >= MAX_HIDDEN_CHARS) continue;
    const kept = truncateText(clean, MAX_HIDDEN_CHARS - total);
    out.push(kept);
    total += kept.length;
  }
  return out;
}

function parseText(bytes: Uint8Array, limits: ParseLimits): ExtractResult {
  const text = decodeText(bytes);
  if (text === undefined) return { ok: false, reason: 'unsupported' };
  return finish(text, 'text', limits);
}

/** UTF-8 (or UTF-16 with a BOM) text; undefined for anything binary. */
function decodeText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder('utf-16le', { fatal: true }).decode(bytes);
    else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder('utf-16be', { fatal: true }).decode(bytes);
    else text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  // Valid UTF-8 can still be binary: NULs or many control characters mean it is not a text document.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting binary content
  const controls = text.match(/[\u0000-\u0008\u000E-\u001F]/g)?.length ?? 0;
  if (text.includes('\u0000') || controls > text.length / 100) return undefined;
  return text;
}

interface PdfTextItem {
  str: string;
  transform: number[];
  width: number;
  hasEOL: boolean;
}

async function parsePdf(bytes: Uint8Array, limits: ParseLimits): Promise<ExtractResult> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // unpdf sets isEvalSupported: false (no code generated from the file) and disables font faces in Node.
    // A copy as a plain Uint8Array: pdf.js refuses Buffers and may detach what it is given.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { isEvalSupported: false, verbosity: 0, stopAtErrors: false });
  } catch (err) {
    return { ok: false, reason: (err as Error)?.name === 'PasswordException' ? 'encrypted' : 'corrupt' };
  }
  try {
    const pages = pdf.numPages;
    if (pages > limits.maxPages) return { ok: false, reason: 'too_many_pages' };
    let text = '';
    const hidden: string[] = [];
    for (let n = 1; n <= pages && text.length < limits.maxChars * 2; n++) {
      const page = await pdf.getPage(n);
      const [x0 = 0, y0 = 0, x1 = 0, y1 = 0] = page.view;
      const content = await page.getTextContent();
      for (const item of content.items as PdfTextItem[]) {
        if (typeof item.str !== 'string') continue;
        const [, , c = 0, d = 0, x = 0, y = 0] = item.transform;
        const size = Math.hypot(c, d);
        const offPage = x > x1 || y > y1 || x + item.width < x0 || y + size < y0;
        if (item.str.trim() && (size < TINY_FONT_PT || offPage)) hidden.push(item.str);
        else text += item.str + (item.hasEOL ? '\n' : '');
      }
      text += '\n\n';
      page.cleanup();
    }
    return finish(text, 'pdf', limits, { pages, hidden });
  } catch (err) {
    return { ok: false, reason: (err as Error)?.name === 'PasswordException' ? 'encrypted' : 'corrupt' };
  } finally {
    await pdf.destroy().catch(() => {});
  }
}

interface DocxElement {
  type: string;
  value?: string;
  fontSize?: number | null;
  children?: DocxElement[];
}
type MammothWithTransforms = typeof mammoth & {
  convertToHtml(
    input: { buffer: Buffer },
    options: { transformDocument: (doc: DocxElement) => DocxElement },
  ): Promise<{ value: string }>;
};

async function parseDocx(bytes: Uint8Array, limits: ParseLimits): Promise<ExtractResult> {
  let text = '';
  const hidden: string[] = [];
  try {
    // Walk mammoth's document tree ourselves: it gives the raw text and each run's font size in one pass.
    await (mammoth as MammothWithTransforms).convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      {
        transformDocument(doc) {
          text = docxText(doc, hidden);
          return { type: 'document', children: [] };
        },
      },
    );
  } catch {
    return { ok: false, reason: 'corrupt' };
  }
  return finish(text, 'docx', limits, { hidden });
}

function docxText(element: DocxElement, hidden: string[]): string {
  if (element.type === 'text') return element.value ?? '';
  if (element.type === 'tab') return '\t';
  if (element.type === 'break') return '\n';
  const inner = (element.children ?? []).map((child) => docxText(child, hidden)).join('');
  if (element.type === 'run' && element.fontSize != null && element.fontSize < TINY_FONT_PT && inner.trim()) {
    hidden.push(inner);
    return '';
  }
  return element.type === 'paragraph' ? `${inner}\n` : inner;
}
