process.env.LOG_LEVEL ??= 'silent';

// In CI the real backends are mandatory: a suite that silently falls back to PGlite/memory would not count.
if (process.env.CI === 'true' && (!process.env.TEST_DATABASE_URL || !process.env.TEST_REDIS_URL)) {
  throw new Error('CI=true but TEST_DATABASE_URL / TEST_REDIS_URL are not set: .ci/run must export them');
}
