/** Builds the replies the machine sends, within WhatsApp's interactive-message limits. */
import type { Question } from '../db/schema.ts';
import type { ListRow } from '../whatsapp/channel.ts';
import type { Texts } from './texts.ts';
import type { ApplicationSummary, OpenProcess, PendingConfirmation, Reply } from './types.ts';

export const LIMITS = {
  buttons: 3,
  buttonTitle: 20,
  listButton: 20,
  rows: 10,
  rowTitle: 24,
  rowDescription: 72,
  buttonsBody: 1024,
  listBody: 4096,
  textBody: 4096,
} as const;

/** Cuts to `max` characters (code points), ending with "…" when cut. */
export function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max - 1).join('') + '…';
}

export function consentPrompt(t: Texts): Reply {
  return {
    kind: 'buttons',
    text: t.greeting,
    buttons: [
      { id: 'consent.accept', title: t.consentAccept },
      { id: 'consent.decline', title: t.consentDecline },
    ],
  };
}

export function confirmPrompt(t: Texts, what: PendingConfirmation): Reply {
  return {
    kind: 'buttons',
    text: what === 'delete' ? t.deleteConfirm : t.restartConfirm,
    buttons: [
      { id: `${what}.confirm`, title: what === 'delete' ? t.deleteYes : t.restartYes },
      { id: `${what}.cancel`, title: t.cancel },
    ],
  };
}

/** A list of processes (row id = code); past 10 the text invites typing the code. */
export function processList(t: Texts, processes: OpenProcess[], intro: string): Reply {
  const rows: ListRow[] = processes.slice(0, LIMITS.rows).map((p) => ({
    id: p.code,
    title: clip(p.title, LIMITS.rowTitle),
    description: clip(t.processRow(p.code), LIMITS.rowDescription),
  }));
  const text = processes.length > LIMITS.rows ? `${intro}\n${t.moreProcesses}` : intro;
  return { kind: 'list', text, button: t.listButton, rows };
}

/** A screening question: yes/no as buttons, choice as a list (numbered text past 10 options), else text. */
export function questionPrompt(t: Texts, question: Question, index: number, total: number): Reply {
  const text = `${t.questionHeader(index + 1, total)}\n${question.text}`;
  const options = question.options ?? [];
  if (question.type === 'yes_no') {
    return {
      kind: 'buttons',
      text,
      buttons: [
        { id: 'answer.yes', title: t.yes },
        { id: 'answer.no', title: t.no },
      ],
    };
  }
  if (question.type === 'choice' && options.length > 0) {
    if (options.length > LIMITS.rows) {
      return { kind: 'text', text: `${text}\n${options.map((o, i) => `${i + 1}. ${o}`).join('\n')}` };
    }
    return {
      kind: 'list',
      text,
      button: t.choiceButton,
      rows: options.map((option, i) => {
        const row: ListRow = { id: `answer.opt.${i}`, title: clip(option, LIMITS.rowTitle) };
        if (Array.from(option).length > LIMITS.rowTitle) row.description = clip(option, LIMITS.rowDescription);
        return row;
      }),
    };
  }
  return { kind: 'text', text };
}

/** "Your applications: • Title (CODE): status", at most 10 lines. */
export function statusText(t: Texts, applications: ApplicationSummary[]): string {
  if (applications.length === 0) return t.noApplications;
  const lines = applications
    .slice(0, 10)
    .map((a) => t.statusLine(a.processTitle, a.processCode, t.statusLabels[a.status] ?? a.status));
  return [t.statusHeader, ...lines].join('\n');
}
