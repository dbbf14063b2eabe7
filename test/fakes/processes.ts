export const RECRUITER_PHONE = '+34600000999';

/** The admin API body of the backend-developer opening the end-to-end tests and the proof apply to. */
export function backendProcess(code: string) {
  return {
    code,
    title: 'Backend developer',
    description: 'TypeScript backend',
    requirements: { skills: ['TypeScript', 'PostgreSQL'], minYears: 2, languages: ['English'] },
    questions: [
      { id: 'permit', text: 'Do you have a work permit?', type: 'yes_no', knockout: 'no' },
      { id: 'years', text: 'Years with Node.js?', type: 'number', min: 0, max: 40 },
      { id: 'mode', text: 'Preferred arrangement?', type: 'choice', options: ['Remote', 'Hybrid', 'Office'] },
    ],
    thresholds: { shortlist: 60, reject: 20 },
    recruiters: [{ name: 'Rita', phone: RECRUITER_PHONE }],
    status: 'open',
  };
}
