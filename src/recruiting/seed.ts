import type { Logger } from '../logger.ts';
import type { ProcessRepository } from './processes.ts';
import type { RecruiterService } from './recruiter-service.ts';

export const DEMO_PROCESS_CODE = 'DEMO1';

/** One open demo process, so the simulator has something to apply to on a fresh install. Idempotent. */
export async function seedDemoProcess(deps: {
  processes: ProcessRepository;
  recruiting: RecruiterService;
  logger: Logger;
}) {
  if (await deps.processes.findByCode(DEMO_PROCESS_CODE)) return;
  try {
    await deps.recruiting.createProcess({
      code: DEMO_PROCESS_CODE,
      title: 'Backend developer',
      description: 'Demo opening: a TypeScript backend developer for our hiring platform.',
      requirements: { skills: ['TypeScript', 'Node.js', 'PostgreSQL'], minYears: 2, languages: ['English'] },
      questions: [
        {
          id: 'q1',
          text: '¿Tienes permiso de trabajo en España? / Do you have a work permit for Spain?',
          type: 'yes_no',
          knockout: 'no',
        },
        {
          id: 'q2',
          text: '¿Cuántos años has trabajado con Node.js? / Years of Node.js experience?',
          type: 'number',
          min: 0,
          max: 40,
        },
        {
          id: 'q3',
          text: '¿Qué modalidad prefieres? / Preferred work arrangement?',
          type: 'choice',
          options: ['Remote', 'Hybrid', 'Office'],
        },
      ],
      thresholds: { shortlist: 70, reject: 40 },
      recruiters: [{ name: 'Demo recruiter', phone: '+34600000999' }],
      notifyOn: null,
      status: 'open',
    });
    deps.logger.info({ code: DEMO_PROCESS_CODE }, 'seeded the demo process');
  } catch (err) {
    // Another instance seeding at the same moment wins the unique code; nothing to do.
    if (!(await deps.processes.findByCode(DEMO_PROCESS_CODE))) throw err;
  }
}
