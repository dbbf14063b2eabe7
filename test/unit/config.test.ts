import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  test('nothing configured means embedded defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.db).toEqual({ kind: 'pglite', dir: './data/pglite' });
    expect(config.kv.kind).toBe('memory');
    expect(config.openai).toBeUndefined();
    expect(config.whatsapp.transport).toBe('simulator');
    expect(config.seedDemo).toBe(true);
  });

  test.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'nonsense' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ WHATSAPP_TRANSPORT: 'pigeon' }, 'WHATSAPP_TRANSPORT'],
    [{ SESSION_TTL_SECONDS: '-5' }, 'SESSION_TTL_SECONDS'],
  ])('%j is refused naming %s', (env, variable) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable}: `));
  });

  test('postgres and redis URLs select the production backends', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db', REDIS_URL: 'redis://h:6379/2' });
    expect(config.db).toMatchObject({ kind: 'postgres', url: 'postgres://u@h:5432/db', max: 20 });
    expect(config.kv).toMatchObject({ kind: 'redis', url: 'redis://h:6379/2' });
  });

  test('REDIS_HOST form builds a URL with an encoded password and db', () => {
    const config = loadConfig({ REDIS_HOST: 'cache', REDIS_PORT: '6380', REDIS_DB: '3', REDIS_PASSWORD: 'p@ss' });
    expect(config.kv).toMatchObject({ kind: 'redis', url: 'redis://:p%40ss@cache:6380/3' });
  });

  test('empty strings count as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', OPENAI_API_KEY: '' }).db.kind).toBe('pglite');
  });

  test('Cloud API credentials select the cloud transport; an explicit transport wins', () => {
    expect(loadConfig({ WHATSAPP_ACCESS_TOKEN: 't', WHATSAPP_PHONE_NUMBER_ID: '1' }).whatsapp.transport).toBe('cloud');
    expect(loadConfig({ WHATSAPP_TRANSPORT: 'webjs' }).whatsapp.transport).toBe('webjs');
    expect(loadConfig({ WHATSAPP_TRANSPORT: 'cloud' }).seedDemo).toBe(false);
  });
});
