import { buildKey } from './cache-key.ts';
import type { CachedOptions, CacheService } from './cache-service.ts';

/**
 * TC39 method decorator: caches an async method's results by its arguments.
 *
 *     class Analyzer {
 *       @cacheable(() => analysisCache, { ttlSeconds: 3600 })
 *       async analyze(cvHash: string) { ... }
 *     }
 *
 * `service` may be a thunk, so the class can be declared before the service exists. The default
 * key is `Class.method` + the arguments (the instance is not part of it); `key` overrides it,
 * called with the instance as `this`.
 */
export function cacheable<This, A extends unknown[], R>(
  service: CacheService | (() => CacheService),
  options: CachedOptions<A> = {},
) {
  return (
    method: (this: This, ...args: A) => Promise<R>,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: A) => Promise<R>>,
  ) => {
    const methodName = String(context.name);
    const { key, ttlSeconds } = options;
    return function cachedMethod(this: This, ...args: A): Promise<R> {
      const svc = typeof service === 'function' ? service() : service;
      let cacheKey: string;
      if (typeof key === 'function') cacheKey = key.apply(this, args);
      else {
        const owner = context.static ? (this as { name?: string }).name : (this as object).constructor?.name;
        cacheKey = buildKey([key ?? `${owner || 'anonymous'}.${methodName}`, ...args]);
      }
      return svc.getOrSet(cacheKey, () => method.apply(this, args), { ttlSeconds });
    };
  };
}
