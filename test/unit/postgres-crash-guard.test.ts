import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { isPostgresNullSocketError } from '../../src/db/postgres-crash-guard.ts';

const child = fileURLToPath(new URL('../fixtures/pg-null-socket-child.ts', import.meta.url));
const run = (kind: string) => spawnSync(process.execPath, ['--import', 'tsx', child, kind], { encoding: 'utf8' });

describe('the postgres.js null-socket crash guard (found by npm run proof, scenario 4)', () => {
  test('recognizes only the driver error', () => {
    const driver = new TypeError("Cannot read properties of null (reading 'write')");
    driver.stack = `${driver.message}\n    at Immediate.nextWrite (/x/node_modules/postgres/src/connection.js:255:22)`;
    expect(isPostgresNullSocketError(driver)).toBe(true);
    expect(isPostgresNullSocketError(new TypeError("Cannot read properties of null (reading 'write')"))).toBe(false);
    expect(isPostgresNullSocketError(new Error('x'))).toBe(false);
  });

  test('a process survives the driver error', () => {
    const r = run('driver');
    expect(r.stdout).toBe('alive');
    expect(r.status).toBe(0);
  });

  test('a lost database connection nobody awaited is survived; one to another port is not', () => {
    expect(run('refused').stdout).toBe('alive');
    const other = run('refused-elsewhere');
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('ECONNREFUSED 127.0.0.1:9');
  });

  test('any other uncaught exception still ends the process with code 1', () => {
    const r = run('other');
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('some other bug');
  });
});
