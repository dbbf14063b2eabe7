import { foldText } from './normalize.ts';
import type { AnalysisFlag } from './profile.ts';

/**
 * Phrases that address a model or an evaluator rather than describe a person: a CV has no reason to tell
 * anyone to ignore instructions or to score it 100. Matched on folded text (lower case, no accents), English
 * and Spanish. A false positive costs little (the recruiter sees a flag); a miss is covered by grounding.
 */
const INSTRUCTION_PATTERNS: RegExp[] = [
  /\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(instructions?|prompts?|rules|directions|guidelines|criteria)\b/,
  /\b(ignora|ignore|olvida|omite|descarta|salta)\w*\b[^.\n]{0,40}\b(instrucciones|indicaciones|reglas|prompt|criterios)\b/,
  /\b(system|developer) (prompt|message|instructions?)\b/,
  /\b(prompt|mensaje|instrucciones) del sistema\b/,
  /\bnew instructions?\b|\bnuevas instrucciones\b/,
  /\b(note|message|instructions?|nota|mensaje) (to|for|para) (the |la |el )?(ai|ia|llm|model|modelo|gpt|chatgpt|assistant|asistente|bot|screening (system|software|tool))\b/,
  /\b(dear|hey|hello|hola|querid[oa]) (ai|ia|chatgpt|gpt|llm|model|modelo|assistant|asistente)\b/,
  /\byou are (now )?(an? |the )?(ai|assistant|chatbot|language model|llm|gpt|recruit\w*|evaluator|screener)\b/,
  /\b(eres|actua como|act as) (ahora )?(un |una |an? |the )?(ia|ai|asistente|assistant|modelo|model|reclutador\w*|recruiter|evaluador\w*)\b/,
  /\b(rate|score|rank|grade|evaluate|mark|assess)\b[^.\n]{0,40}\b(100|10 ?\/ ?10|highest|maximum|max|perfect|top|best)\b/,
  /\b(puntu|califica|valora|evalua|clasifica)\w*\b[^.\n]{0,40}\b(100|10 ?\/ ?10|maxim\w*|perfect\w*|mejor)\b/,
  /\b(you (must|should|will|shall)|please|must) (shortlist|hire|select|recommend|approve|accept|pass|advance)\b/,
  /\b(debes|tienes que|deberias) (preseleccionar|contratar|seleccionar|recomendar|aprobar|aceptar)\b/,
  /\b(this|the) (candidate|applicant) (is|must be|should be|has to be) (the )?(best|perfect|ideal|top|shortlisted|hired|selected|a perfect match)\b/,
  /\b(este|el) candidat[oa] (es|debe ser) (el |la )?(mejor|perfect[oa]|ideal|seleccionad[oa])\b/,
  /<\|?\s*(im_start|im_end|system|endoftext|assistant)\s*\|?>|\[\/?(inst|sys)\]|<<\/?sys>>|#{2,}\s*(instruction|system)/,
  /\b(respond|reply|answer|output) (only )?with\b[^.\n]{0,30}\b(json|yes|score|100)\b/,
];

export interface ScreenedText {
  /** The text with every sentence that tries to instruct the model removed: what the analyzer sees. */
  clean: string;
  flags: AnalysisFlag[];
}

const MAX_EXCERPT = 160;
const MAX_FLAGS = 10;

export function looksLikeInstruction(text: string): boolean {
  const folded = foldText(text);
  return INSTRUCTION_PATTERNS.some((re) => re.test(folded));
}

/**
 * Screens a CV before analysis. Sentences addressed to a model are flagged and removed, and text a reader
 * cannot see (from the extractor) is flagged and never analysed: neither can change the profile, so neither
 * can raise the score. The recruiter sees the flags and decides.
 */
export function screenCvText(text: string, hiddenText: string[] = []): ScreenedText {
  const flags: AnalysisFlag[] = [];
  const add = (flag: AnalysisFlag) => {
    if (flags.length < MAX_FLAGS) flags.push(flag);
  };
  for (const hidden of hiddenText) {
    add({ kind: 'hidden_text', excerpt: excerpt(hidden) });
    if (looksLikeInstruction(hidden)) add({ kind: 'prompt_injection', excerpt: excerpt(hidden) });
  }
  // Fast path, the usual case: nothing in the whole text (lines joined, for wrapped sentences) matches.
  if (!looksLikeInstruction(text.replace(/\n/g, ' '))) return { clean: text, flags };
  const lines: string[] = text.split('\n');
  const out: string[] = [];
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const next = lines[i + 1];
    if (looksLikeInstruction(line)) {
      changed = true;
      const sentences = splitSentences(line);
      const kept = sentences.filter((sentence) => !looksLikeInstruction(sentence));
      // Sentences that each look harmless but match together: the whole line goes.
      const removed = kept.length === sentences.length ? [line] : sentences.filter((x) => !kept.includes(x));
      for (const r of removed) add({ kind: 'prompt_injection', excerpt: excerpt(r) });
      if (kept.length && kept.length < sentences.length) out.push(kept.join(' '));
    } else if (next !== undefined && !looksLikeInstruction(next) && looksLikeInstruction(`${line} ${next}`)) {
      // An instruction wrapped over two lines (PDF extraction breaks lines where the page does).
      changed = true;
      add({ kind: 'prompt_injection', excerpt: excerpt(`${line} ${next}`) });
      i++;
    } else {
      out.push(line);
    }
  }
  const clean = changed
    ? out
        .join('\n')
        .replace(/\n{3,}/g, '\n\n')
        .trim()
    : text;
  return { clean, flags };
}

function splitSentences(line: string): string[] {
  return line.split(/(?<=[.!?;])\s+/).filter((s) => s.trim());
}

function excerpt(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > MAX_EXCERPT ? `${one.slice(0, MAX_EXCERPT - 1)}…` : one;
}
