import { describe, expect, test } from 'vitest';
import { findDateRanges, yearsCovered } from '../../../src/cv/dates.ts';
import { foldText, normalizeCvText, sha256Hex, truncateText } from '../../../src/cv/normalize.ts';
import { findTerm, sameLanguage, sameSkill, skillTerm } from '../../../src/cv/terms.ts';

describe('normalizeCvText', () => {
  test('gives one canonical form for the same CV typed differently', () => {
    const a = 'Ana  García\r\n\r\n\r\n\r\nNode.js\u200b developer\t\tin Madrid \u00a0\n';
    const b = 'Ana García\n\nNode.js developer in Madrid';
    expect(normalizeCvText(a)).toBe(b);
    expect(sha256Hex(normalizeCvText(a))).toBe(sha256Hex(normalizeCvText(b)));
  });

  test('composes accents (NFC) and drops control characters', () => {
    expect(normalizeCvText('Garci\u0301a\u0007')).toBe('García');
  });

  test('truncation never splits a surrogate pair', () => {
    expect(truncateText('ab😀c', 3)).toBe('ab');
    expect(truncateText('abc', 5)).toBe('abc');
  });

  test('folding keeps offsets aligned with the original text', () => {
    const text = 'Experiencia en Ingeniería de Datos';
    const folded = foldText(text);
    expect(folded).toHaveLength(text.length);
    expect(folded).toBe('experiencia en ingenieria de datos');
  });
});

describe('terms', () => {
  const find = (text: string, name: string, strict = false) => findTerm(foldText(text), skillTerm(name), strict) >= 0;

  test.each([
    ['Worked with JavaScript daily', 'Java', false],
    ['Java and Spring', 'Java', true],
    ['C++ and Rust', 'C', false],
    ['C++ and Rust', 'C++', true],
    ['Built on NodeJS', 'Node.js', true],
    ['node js services', 'Node.js', true],
    ['k8s clusters', 'Kubernetes', true],
    ['Power-BI dashboards', 'Power BI', true],
    ['gestión de proyectos', 'Project Management', true],
  ])('%j mentions %s: %s', (text, skill, expected) => {
    expect(find(text, skill)).toBe(expected);
  });

  test('strict scanning ignores ambiguous short aliases', () => {
    expect(find('ready to go to market', 'Go', true)).toBe(false);
    expect(find('services in golang', 'Go', true)).toBe(true);
  });

  test('aliases name the same skill or language', () => {
    expect(sameSkill('Postgres', 'PostgreSQL')).toBe(true);
    expect(sameSkill('Java', 'JavaScript')).toBe(false);
    expect(sameLanguage('Inglés', 'English')).toBe(true);
  });
});

describe('date ranges', () => {
  const now = new Date('2025-06-15T00:00:00Z');

  test('reads the usual CV formats, English and Spanish', () => {
    const ranges = findDateRanges(
      '03/2019 - present\nEne 2010 – Dic 2012\nmarzo de 2005 a 2006\n2019.03 - 2020.01',
      now,
    );
    expect(ranges.map((r) => [r.start, r.end])).toEqual([
      [2019 * 12 + 2, undefined],
      [2010 * 12, 2012 * 12 + 11],
      [2005 * 12 + 2, 2006 * 12 + 11],
      [2019 * 12 + 2, 2020 * 12],
    ]);
  });

  test('ignores what is not a range of plausible years', () => {
    expect(findDateRanges('call 1234-5678 or 2030 - 2031', now)).toEqual([]);
  });

  test('overlapping ranges count once', () => {
    const ranges = findDateRanges('2015 - 2019\n2018 - 2020', now);
    expect(yearsCovered(ranges, now)).toBe(6);
  });
});
