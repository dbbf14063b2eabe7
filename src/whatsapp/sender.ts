import type { EventBus } from '../events/bus.ts';
import type { Logger } from '../logger.ts';
import type { CandidateRepository } from '../recruiting/candidates.ts';
import type { Channel, OutboundMessage } from './channel.ts';

const WINDOW_MS = 24 * 60 * 60 * 1000;
/** Meta: template body parameters hold no newlines, tabs or runs of spaces, and at most 1024 characters. */
const flatten = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 1000);

export interface TemplateConfig {
  name: string;
  language: string;
}

/**
 * Delivers `whatsapp.send` events through the channel. On the Cloud API, free text may only be
 * sent inside the 24-hour window that the candidate's last message opened; outside it (and to
 * recruiters, who never write to us) the message goes as the configured template.
 */
export function subscribeWhatsAppSender(deps: {
  bus: EventBus;
  channel: Channel;
  candidates: CandidateRepository;
  template: TemplateConfig;
  logger: Logger;
  now?: () => Date;
}): void {
  const now = deps.now ?? (() => new Date());

  function asTemplate(message: OutboundMessage, language: string): OutboundMessage {
    if (message.kind === 'template') return message;
    return {
      kind: 'template',
      to: message.to,
      name: deps.template.name,
      language,
      parameters: [flatten(message.text)],
    };
  }

  deps.bus.subscribe('whatsapp.send', 'whatsapp.sender', async ({ payload }) => {
    let message = payload.message;
    if (payload.candidateId) {
      const candidate = await deps.candidates.findById(payload.candidateId);
      if (!candidate || candidate.erasedAt || candidate.phone !== message.to) return; // erased meanwhile: say nothing
      const inWindow = candidate.lastInboundAt && now().getTime() - candidate.lastInboundAt.getTime() < WINDOW_MS;
      if (deps.channel.kind === 'cloud' && !inWindow) message = asTemplate(message, candidate.locale);
    } else if (deps.channel.kind === 'cloud' && message.kind === 'text' && payload.recipient === 'recruiter') {
      message = asTemplate(message, deps.template.language);
    }
    await deps.channel.send(message);
  });
}
