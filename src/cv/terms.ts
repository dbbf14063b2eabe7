import { foldText } from './normalize.ts';

/**
 * Skills the offline analyzer recognizes, each a canonical name followed by its aliases. Matching is case-
 * and accent-insensitive on whole tokens, so "Java" never matches inside "JavaScript".
 */
const SKILLS: string[][] = [
  ['JavaScript', 'js', 'ecmascript'],
  ['TypeScript', 'ts'],
  ['Node.js', 'nodejs', 'node js', 'node'],
  ['Python'],
  ['Java'],
  ['Kotlin'],
  ['Scala'],
  ['Go', 'golang'],
  ['Rust'],
  ['C'],
  ['C++', 'cpp'],
  ['C#', 'csharp', 'c sharp'],
  ['.NET', 'dotnet', 'asp.net'],
  ['PHP'],
  ['Laravel'],
  ['Symfony'],
  ['Ruby'],
  ['Ruby on Rails', 'rails'],
  ['Swift'],
  ['Objective-C'],
  ['Dart'],
  ['Flutter'],
  ['R'],
  ['MATLAB'],
  ['SQL'],
  ['PostgreSQL', 'postgres', 'psql'],
  ['MySQL', 'mariadb'],
  ['SQL Server', 'mssql'],
  ['Oracle'],
  ['SQLite'],
  ['MongoDB', 'mongo'],
  ['Redis'],
  ['Elasticsearch', 'elastic search', 'opensearch'],
  ['Cassandra'],
  ['DynamoDB'],
  ['Kafka', 'apache kafka'],
  ['RabbitMQ'],
  ['GraphQL'],
  ['REST', 'rest api', 'rest apis', 'restful'],
  ['gRPC'],
  ['React', 'reactjs', 'react.js'],
  ['React Native'],
  ['Angular', 'angularjs'],
  ['Vue', 'vue.js', 'vuejs'],
  ['Svelte'],
  ['Next.js', 'nextjs'],
  ['Express', 'express.js', 'expressjs'],
  ['NestJS', 'nest.js'],
  ['Django'],
  ['Flask'],
  ['FastAPI'],
  ['Spring', 'spring boot', 'springboot'],
  ['HTML', 'html5'],
  ['CSS', 'css3'],
  ['Sass', 'scss'],
  ['Tailwind', 'tailwindcss'],
  ['Docker'],
  ['Kubernetes', 'k8s'],
  ['Terraform'],
  ['Ansible'],
  ['AWS', 'amazon web services'],
  ['Azure', 'microsoft azure'],
  ['GCP', 'google cloud', 'google cloud platform'],
  ['Linux'],
  ['Git', 'github', 'gitlab'],
  ['CI/CD', 'ci', 'continuous integration', 'github actions', 'jenkins', 'gitlab ci'],
  ['Microservices', 'microservicios', 'micro-services'],
  ['Machine Learning', 'ml', 'aprendizaje automatico'],
  ['Deep Learning'],
  ['TensorFlow'],
  ['PyTorch'],
  ['Pandas'],
  ['Spark', 'apache spark', 'pyspark'],
  ['Airflow'],
  ['Power BI', 'powerbi'],
  ['Tableau'],
  ['Excel', 'microsoft excel'],
  ['SAP'],
  ['Salesforce'],
  ['Jira'],
  ['Figma'],
  ['Photoshop'],
  ['Scrum'],
  ['Agile', 'agil', 'metodologias agiles'],
  ['Kanban'],
  ['Testing', 'unit testing', 'pruebas unitarias', 'tdd'],
  ['Jest'],
  ['Cypress'],
  ['Selenium'],
  ['Playwright'],
  ['Security', 'cybersecurity', 'ciberseguridad', 'seguridad informatica'],
  ['Networking', 'redes', 'tcp/ip'],
  ['Project Management', 'gestion de proyectos', 'project manager'],
  ['Customer Service', 'atencion al cliente', 'customer support', 'servicio al cliente'],
  ['Sales', 'ventas'],
  ['Marketing', 'digital marketing', 'marketing digital'],
  ['SEO'],
  ['Accounting', 'contabilidad'],
  ['Logistics', 'logistica'],
  ['Warehouse', 'almacen', 'warehousing'],
  ['Forklift', 'carretilla elevadora', 'carretillero'],
  ['Driving licence', 'driving license', 'carnet de conducir', 'permiso de conducir', 'carne de conducir'],
  ['Leadership', 'liderazgo', 'team lead', 'team leader'],
  ['Communication', 'comunicacion'],
  ['Teamwork', 'trabajo en equipo'],
];

const LANGUAGES: string[][] = [
  ['English', 'ingles', 'anglais', 'englisch'],
  ['Spanish', 'espanol', 'castellano', 'espagnol'],
  ['French', 'frances', 'francais'],
  ['German', 'aleman', 'deutsch'],
  ['Italian', 'italiano'],
  ['Portuguese', 'portugues'],
  ['Catalan', 'catala', 'catalan'],
  ['Basque', 'euskera', 'euskara'],
  ['Galician', 'gallego', 'galego'],
  ['Dutch', 'neerlandes', 'holandes'],
  ['Chinese', 'chino', 'mandarin'],
  ['Japanese', 'japones'],
  ['Arabic', 'arabe'],
  ['Russian', 'ruso'],
  ['Romanian', 'rumano'],
  ['Polish', 'polaco'],
  ['Ukrainian', 'ucraniano'],
  ['Hindi'],
];

// Aliases too short or too common to count as evidence on their own in free text.
const AMBIGUOUS = new Set(['c', 'r', 'go', 'ts', 'js', 'ci', 'ml', 'node', 'rest', 'express', 'spring', 'oracle']);

export interface Term {
  canonical: string;
  /** Folded forms that count as a mention. */
  forms: string[];
}

const toTerms = (rows: string[][]): Term[] =>
  rows.map(([canonical, ...aliases]) => ({
    canonical: canonical!,
    forms: [...new Set([canonical!, ...aliases].map(foldText))],
  }));

export const skillTerms: Term[] = toTerms(SKILLS);
export const languageTerms: Term[] = toTerms(LANGUAGES);

const skillIndex = new Map(skillTerms.flatMap((t) => t.forms.map((f) => [f, t] as const)));
const languageIndex = new Map(languageTerms.flatMap((t) => t.forms.map((f) => [f, t] as const)));

/** The dictionary entry a skill name belongs to, or a one-off term for a skill we do not know. */
export function skillTerm(name: string): Term {
  const folded = foldText(name.trim());
  return skillIndex.get(folded) ?? { canonical: name.trim(), forms: [folded] };
}

export function languageTerm(name: string): Term {
  const folded = foldText(name.trim());
  return languageIndex.get(folded) ?? { canonical: name.trim(), forms: [folded] };
}

/** Whether two skill names mean the same skill (same dictionary entry, or the same words). */
export function sameSkill(a: string, b: string): boolean {
  const ta = skillTerm(a);
  const tb = skillTerm(b);
  return ta.canonical === tb.canonical || squash(a) === squash(b);
}

export function sameLanguage(a: string, b: string): boolean {
  return languageTerm(a).canonical === languageTerm(b).canonical;
}

const squash = (s: string) => foldText(s).replace(/[^\p{L}\p{N}+#]/gu, '');

const patternCache = new Map<string, RegExp>();

/** A whole-token, case/accent-insensitive pattern for a folded form ("c++", "node.js", "power bi"). */
function formPattern(form: string): RegExp {
  let re = patternCache.get(form);
  if (!re) {
    const body = form
      .split(/\s+/)
      .map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
      .join('[\\s\\-]+');
    re = new RegExp(`(?<![\\p{L}\\p{N}])${body}(?![\\p{L}\\p{N}+#])`, 'gu');
    if (patternCache.size < 5_000) patternCache.set(form, re);
  }
  re.lastIndex = 0;
  return re;
}

/**
 * Where a term is mentioned in `folded` (the output of foldText on the CV): the offset of the first mention,
 * or -1. `strict` ignores the short, ambiguous forms ("go", "r", "node"): for scanning a CV against the
 * whole dictionary, where "go to market" must not become the Go language.
 */
export function findTerm(folded: string, term: Term, strict = false): number {
  let best = -1;
  for (const form of term.forms) {
    if (strict && AMBIGUOUS.has(form)) continue;
    const match = formPattern(form).exec(folded);
    if (match && (best < 0 || match.index < best)) best = match.index;
  }
  return best;
}

/** The line around `index` in `text`, cut to about `max` characters: a verbatim evidence quote. */
export function quoteAround(text: string, index: number, max = 120): string {
  const lineStart = text.lastIndexOf('\n', index) + 1;
  const lineEnd = text.indexOf('\n', index);
  const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
  if (line.length <= max) return line.trim();
  const at = index - lineStart;
  const from = Math.max(0, Math.min(at - Math.floor(max / 2), line.length - max));
  return line.slice(from, from + max).trim();
}
