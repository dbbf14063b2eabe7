/**
 * Everything the assistant says, in Spanish and English: translators work here only.
 * WhatsApp limits: button titles 20 chars, list button 20, list row titles 24, row descriptions 72,
 * button message bodies 1024. The unit tests check every reply against them.
 */
import type { ApplicationStatus } from '../db/schema.ts';
import type { CvFailureReason, Locale } from './types.ts';

/** Bump whenever the consent wording changes: it is recorded with each consent. */
export const CONSENT_VERSION = 'consent-v1';

/** Pasted CV text shorter than this is refused. */
export const MIN_CV_CHARS = 200;
/** Typed answers to text questions longer than this are refused. */
export const MAX_TEXT_ANSWER_CHARS = 1000;

export interface Texts {
  greeting: string;
  consentAccept: string;
  consentDecline: string;
  consentHint: string;
  declined: string;
  consentThanks: string;
  nothingStored: string;

  chooseProcess: string;
  moreProcesses: string;
  listButton: string;
  processRow: (code: string) => string;
  noOpenProcesses: string;
  unknownProcess: string;
  processClosed: (title: string) => string;
  alreadyApplied: (title: string, status: string) => string;
  applyingTo: (title: string) => string;
  otherProcesses: string;
  noOtherProcesses: string;
  applicationSent: (title: string, status: string) => string;

  askName: string;
  nameHint: string;
  askEmail: (firstName?: string) => string;
  emailHint: string;

  askCv: string;
  cvTooShort: (chars: number) => string;
  cvWrongType: string;
  cvReading: string;
  cvStillReading: string;
  cvFailed: Record<CvFailureReason, string>;
  cvRetry: string;
  cvOk: string;

  questionHeader: (index: number, total: number) => string;
  yes: string;
  no: string;
  yesNoHint: string;
  numberHint: (min?: number, max?: number) => string;
  textEmpty: string;
  textTooLong: (max: number) => string;
  choiceHint: string;
  choiceButton: string;
  completed: (firstName: string | undefined, title: string) => string;

  help: string;
  statusHeader: string;
  noApplications: string;
  statusLine: (title: string, code: string, status: string) => string;
  statusLabels: Record<ApplicationStatus, string>;
  unsupported: string;
  stuck: string;
  languageSwitched: string;

  deleteConfirm: string;
  deleteYes: string;
  cancel: string;
  deleted: string;
  notDeleted: string;

  restartConfirm: string;
  restartYes: string;
  restarted: string;
  notRestarted: string;
  finishedNoRestart: (title: string, status: string) => string;

  /** Sent by the notifier when a recruiter decides (possibly days later, so it names the opening). */
  decisionNotice: (title: string, status: ApplicationStatus) => string;
  /** To the process's recruiters when an application or the process changes status. */
  recruiterApplicationNotice: (p: {
    title: string;
    code: string;
    candidate: string;
    status: string;
    score?: number | null;
  }) => string;
  recruiterProcessNotice: (p: { title: string; code: string; status: string }) => string;
}

const es: Texts = {
  greeting:
    '¡Hola! 👋 Soy el asistente automático de selección de personal. Te ayudo a postularte a una vacante por este chat.\n\n' +
    'Para seguir necesito tu permiso para guardar tu nombre, email, CV y respuestas, y compartirlos con el equipo de selección. ' +
    'Puedes borrarlos cuando quieras escribiendo BORRAR.\n\n¿Aceptas?',
  consentAccept: 'Acepto',
  consentDecline: 'No acepto',
  consentHint: 'Toca «Acepto» o «No acepto» (o escribe sí o no).',
  declined: 'Entendido, no guardaremos tus datos. Si cambias de opinión, escríbenos cuando quieras. ¡Suerte!',
  consentThanks: '¡Gracias!',
  nothingStored: 'No guardamos datos tuyos (como mucho, tu número y tu respuesta sobre el consentimiento).',

  chooseProcess: '¿A qué vacante quieres postularte? Elige una de la lista o escribe su código.',
  moreProcesses: 'Hay más vacantes: si la tuya no aparece, escribe su código.',
  listButton: 'Ver vacantes',
  processRow: (code) => `Código: ${code}`,
  noOpenProcesses: 'Ahora mismo no hay vacantes abiertas. Escríbenos más adelante 🙏',
  unknownProcess: 'No encontré esa vacante.',
  processClosed: (title) => `La vacante «${title}» ya no está abierta.`,
  alreadyApplied: (title, status) => `Ya te postulaste a «${title}» (estado: ${status}).`,
  applyingTo: (title) => `¡Genial! Te postulas a «${title}».`,
  otherProcesses: '¿Quieres postularte a otra vacante? Elige una de la lista.',
  noOtherProcesses: 'Por ahora no hay otras vacantes abiertas.',
  applicationSent: (title, status) => `Tu postulación a «${title}» ya está enviada (estado: ${status}).`,

  askName: '¿Cuál es tu nombre completo?',
  nameHint: 'Escribe solo tu nombre y apellido, con letras (por ejemplo: Ana García).',
  askEmail: (firstName) => (firstName ? `Gracias, ${firstName}. ¿Cuál es tu email?` : '¿Cuál es tu email?'),
  emailHint: 'Ese email no parece válido. Escríbelo así: nombre@ejemplo.com',

  askCv: 'Ahora envíame tu CV como documento (PDF, DOCX o TXT), o pega aquí el texto (mínimo 200 caracteres).',
  cvTooShort: (chars) =>
    `Ese texto es muy corto para un CV (${chars} caracteres). Pega el CV completo (mínimo 200) o envíalo como documento.`,
  cvWrongType: 'No puedo leer ese tipo de archivo. Envía tu CV en PDF, DOCX o TXT.',
  cvReading: '¡Recibido! Estoy leyendo tu CV, dame un momento ⏳',
  cvStillReading: 'Sigo leyendo tu CV, te escribo en cuanto termine ⏳',
  cvFailed: {
    too_large: 'El archivo es demasiado grande.',
    too_many_pages: 'El CV tiene demasiadas páginas.',
    scanned: 'Parece un documento escaneado (una imagen) y no puedo leer su texto.',
    encrypted: 'El archivo está protegido con contraseña.',
    corrupt: 'No pude abrir el archivo: parece dañado.',
    unsupported: 'No puedo leer ese tipo de archivo.',
    timeout: 'Tardé demasiado en leer el archivo.',
    too_short: 'El documento casi no tiene texto.',
  },
  cvRetry: 'Prueba con otro archivo (PDF, DOCX o TXT) o pega aquí el texto de tu CV.',
  cvOk: '¡Listo, ya tengo tu CV! ✅',

  questionHeader: (index, total) => `Pregunta ${index} de ${total}:`,
  yes: 'Sí',
  no: 'No',
  yesNoHint: 'Responde sí o no, por favor.',
  numberHint: (min, max) =>
    min !== undefined && max !== undefined
      ? `Responde con un número entre ${min} y ${max}.`
      : 'Responde con un solo número, por ejemplo: 3.',
  textEmpty: 'Escribe tu respuesta en un mensaje de texto.',
  textTooLong: (max) => `Tu respuesta es muy larga: resúmela en menos de ${max} caracteres.`,
  choiceHint: 'Elige una opción de la lista o escribe su número.',
  choiceButton: 'Ver opciones',
  completed: (firstName, title) =>
    `¡Gracias${firstName ? `, ${firstName}` : ''}! 🎉 Tu postulación a «${title}» está completa. ` +
    'Te escribiremos cuando haya novedades. Escribe ESTADO para verla cuando quieras.',

  help:
    'Soy un asistente automático. Puedes escribir en cualquier momento:\n' +
    '• ESTADO: ver tus postulaciones\n• REINICIAR: empezar de nuevo\n• BORRAR: borrar tus datos\n• ENGLISH: switch to English',
  statusHeader: 'Tus postulaciones:',
  noApplications: 'Aún no tienes postulaciones.',
  statusLine: (title, code, status) => `• ${title} (${code}): ${status}`,
  statusLabels: {
    in_progress: 'en curso',
    submitted: 'recibida',
    shortlisted: 'preseleccionada',
    review: 'en revisión',
    rejected: 'no seleccionada',
    interview: 'entrevista',
    offer: 'oferta',
    hired: 'contratación',
    withdrawn: 'retirada',
  },
  unsupported: 'Por ahora solo puedo leer mensajes de texto y documentos 🙏',
  stuck: 'Si necesitas ayuda, escribe AYUDA.',
  languageSwitched: 'Perfecto, seguimos en español.',

  deleteConfirm:
    '¿Seguro que quieres borrar tus datos (nombre, email, CV, respuestas y esta conversación)? No se puede deshacer.',
  deleteYes: 'Sí, borrar',
  cancel: 'Cancelar',
  deleted: 'Listo, borramos tus datos. Si quieres postularte de nuevo, escríbenos cuando quieras.',
  notDeleted: 'De acuerdo, no borré nada.',

  restartConfirm: '¿Quieres empezar de nuevo? Se descartan el CV y las respuestas de esta postulación.',
  restartYes: 'Sí, reiniciar',
  restarted: 'Listo, empecemos de nuevo.',
  notRestarted: 'De acuerdo, seguimos donde estábamos.',
  finishedNoRestart: (title, status) =>
    `Tu postulación a «${title}» ya está enviada (estado: ${status}) y no se puede reiniciar.`,
  decisionNotice: (title, status) =>
    ({
      interview: `¡Buenas noticias! Queremos entrevistarte para «${title}». Te contactaremos pronto para acordar el día.`,
      offer: `¡Enhorabuena! Tenemos una oferta para ti en «${title}». Te contactaremos con los detalles.`,
      hired: `¡Bienvenido/a al equipo! Tu contratación para «${title}» está confirmada.`,
      rejected: `Gracias por postularte a «${title}». Esta vez hemos seguido con otras candidaturas. ¡Te deseamos mucha suerte!`,
    })[status as 'interview'] ?? `Tu postulación a «${title}» cambió de estado: ${status}.`,
  recruiterApplicationNotice: (p) =>
    `Vacante ${p.code} «${p.title}»: ${p.candidate} → ${p.status}${p.score != null ? ` (puntuación ${p.score})` : ''}.`,
  recruiterProcessNotice: (p) => `La vacante ${p.code} «${p.title}» ahora está: ${p.status}.`,
};

const en: Texts = {
  greeting:
    "Hi! 👋 I'm an automated recruiting assistant. I can help you apply for a job right here in this chat.\n\n" +
    'To continue, I need your permission to store your name, email, CV and answers and share them with the hiring team. ' +
    'You can delete them any time by typing DELETE.\n\nDo you accept?',
  consentAccept: 'I accept',
  consentDecline: 'No, thanks',
  consentHint: 'Tap "I accept" or "No, thanks" (or type yes or no).',
  declined: "Understood, we won't keep your data. If you change your mind, just write to us. Good luck!",
  consentThanks: 'Thank you!',
  nothingStored: "We don't keep any of your data (at most your number and your answer about consent).",

  chooseProcess: 'Which job would you like to apply for? Pick one from the list or type its code.',
  moreProcesses: "There are more jobs: if yours isn't listed, type its code.",
  listButton: 'See jobs',
  processRow: (code) => `Code: ${code}`,
  noOpenProcesses: 'There are no open jobs right now. Please write to us again later 🙏',
  unknownProcess: "I couldn't find that job.",
  processClosed: (title) => `The job "${title}" is no longer open.`,
  alreadyApplied: (title, status) => `You already applied for "${title}" (status: ${status}).`,
  applyingTo: (title) => `Great! You're applying for "${title}".`,
  otherProcesses: 'Would you like to apply for another job? Pick one from the list.',
  noOtherProcesses: 'There are no other open jobs right now.',
  applicationSent: (title, status) => `Your application for "${title}" has been sent (status: ${status}).`,

  askName: "What's your full name?",
  nameHint: 'Please type just your first and last name, in letters (for example: Ana Garcia).',
  askEmail: (firstName) => (firstName ? `Thanks, ${firstName}. What's your email?` : "What's your email?"),
  emailHint: "That email doesn't look right. Please type it like this: name@example.com",

  askCv: 'Now send me your CV as a document (PDF, DOCX or TXT), or paste its text here (at least 200 characters).',
  cvTooShort: (chars) =>
    `That text is too short for a CV (${chars} characters). Paste your full CV (at least 200) or send it as a document.`,
  cvWrongType: "I can't read that kind of file. Please send your CV as a PDF, DOCX or TXT.",
  cvReading: "Got it! I'm reading your CV, give me a moment ⏳",
  cvStillReading: "I'm still reading your CV, I'll write as soon as I'm done ⏳",
  cvFailed: {
    too_large: 'The file is too large.',
    too_many_pages: 'The CV has too many pages.',
    scanned: "It looks like a scanned document (an image), so I can't read its text.",
    encrypted: 'The file is password-protected.',
    corrupt: "I couldn't open the file: it seems damaged.",
    unsupported: "I can't read that kind of file.",
    timeout: 'Reading the file took too long.',
    too_short: 'The document has almost no text.',
  },
  cvRetry: 'Please try another file (PDF, DOCX or TXT) or paste the text of your CV here.',
  cvOk: 'Done, I have your CV! ✅',

  questionHeader: (index, total) => `Question ${index} of ${total}:`,
  yes: 'Yes',
  no: 'No',
  yesNoHint: 'Please answer yes or no.',
  numberHint: (min, max) =>
    min !== undefined && max !== undefined
      ? `Please answer with a number between ${min} and ${max}.`
      : 'Please answer with a single number, for example: 3.',
  textEmpty: 'Please type your answer as a text message.',
  textTooLong: (max) => `Your answer is too long: please keep it under ${max} characters.`,
  choiceHint: 'Please pick an option from the list or type its number.',
  choiceButton: 'See options',
  completed: (firstName, title) =>
    `Thank you${firstName ? `, ${firstName}` : ''}! 🎉 Your application for "${title}" is complete. ` +
    "We'll write to you when there's news. Type STATUS any time to check it.",

  help:
    "I'm an automated assistant. You can type at any time:\n" +
    '• STATUS: see your applications\n• RESTART: start over\n• DELETE: delete your data\n• ESPAÑOL: cambiar a español',
  statusHeader: 'Your applications:',
  noApplications: "You don't have any applications yet.",
  statusLine: (title, code, status) => `• ${title} (${code}): ${status}`,
  statusLabels: {
    in_progress: 'in progress',
    submitted: 'received',
    shortlisted: 'shortlisted',
    review: 'under review',
    rejected: 'not selected',
    interview: 'interview',
    offer: 'offer',
    hired: 'hired',
    withdrawn: 'withdrawn',
  },
  unsupported: 'For now I can only read text messages and documents 🙏',
  stuck: 'If you need help, type HELP.',
  languageSwitched: "Sure, let's continue in English.",

  deleteConfirm:
    'Are you sure you want to delete your data (name, email, CV, answers and this conversation)? This cannot be undone.',
  deleteYes: 'Yes, delete',
  cancel: 'Cancel',
  deleted: 'Done, your data has been deleted. If you want to apply again, just write to us.',
  notDeleted: 'OK, nothing was deleted.',

  restartConfirm: 'Do you want to start over? The CV and answers of this application will be discarded.',
  restartYes: 'Yes, start over',
  restarted: "OK, let's start over.",
  notRestarted: "OK, let's continue where we were.",
  finishedNoRestart: (title, status) =>
    `Your application for "${title}" has already been sent (status: ${status}) and can't be restarted.`,
  decisionNotice: (title, status) =>
    ({
      interview: `Good news! We would like to interview you for "${title}". We will contact you soon to set a date.`,
      offer: `Congratulations! We have an offer for you for "${title}". We will contact you with the details.`,
      hired: `Welcome aboard! Your hiring for "${title}" is confirmed.`,
      rejected: `Thank you for applying to "${title}". This time we moved forward with other candidates. We wish you the best of luck!`,
    })[status as 'interview'] ?? `Your application for "${title}" changed status: ${status}.`,
  recruiterApplicationNotice: (p) =>
    `Opening ${p.code} "${p.title}": ${p.candidate} → ${p.status}${p.score != null ? ` (score ${p.score})` : ''}.`,
  recruiterProcessNotice: (p) => `Opening ${p.code} "${p.title}" is now ${p.status}.`,
};

export const TEXTS: Record<Locale, Texts> = { es, en };

export function textsFor(locale: Locale): Texts {
  return TEXTS[locale];
}
