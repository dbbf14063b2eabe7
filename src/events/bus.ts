import type { EventHandler, EventType } from './types.ts';

export interface Subscription {
  /** Unique per event type: the outbox records success per (event id, handler name). */
  readonly name: string;
  readonly handler: EventHandler;
}

/**
 * Who handles which event type. There is no `publish`: events are delivered only by the outbox
 * dispatcher (the relay), after commit, through `handlersFor`.
 */
export interface EventBus {
  /** Returns an unsubscribe function. Throws when `handlerName` is already taken for `type`. */
  subscribe<K extends EventType>(type: K, handlerName: string, handler: EventHandler<K>): () => void;
  /** Handlers of a type, in subscription order (unknown types have none). */
  handlersFor(type: string): readonly Subscription[];
}

export function createEventBus(): EventBus {
  const byType = new Map<string, Subscription[]>();
  return {
    subscribe(type, handlerName, handler) {
      const list = byType.get(type) ?? [];
      if (list.some((s) => s.name === handlerName)) {
        throw new Error(`Handler "${handlerName}" is already subscribed to ${type}`);
      }
      const subscription: Subscription = { name: handlerName, handler: handler as EventHandler };
      byType.set(type, [...list, subscription]);
      return () => {
        byType.set(
          type,
          (byType.get(type) ?? []).filter((s) => s !== subscription),
        );
      };
    },
    handlersFor: (type) => byType.get(type) ?? [],
  };
}
