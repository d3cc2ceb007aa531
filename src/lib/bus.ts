import { EventEmitter } from 'node:events';

/**
 * The events domains publish for the live UI and for each other. Each domain adds its own events with
 * declaration merging (`declare module '../lib/bus.ts' { interface BusEvents { ... } }`), so this file
 * stays free of domain knowledge.
 */
export interface BusEvents {}

export type BusTopic = keyof BusEvents & string;

export interface Bus {
  publish<T extends BusTopic>(topic: T, payload: BusEvents[T]): void;
  /** Returns the function that unsubscribes. */
  subscribe<T extends BusTopic>(topic: T, listener: (payload: BusEvents[T]) => void): () => void;
}

export function createBus(): Bus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish(topic, payload) {
      emitter.emit(topic, payload);
    },
    subscribe(topic, listener) {
      emitter.on(topic, listener);
      return () => emitter.off(topic, listener);
    },
  };
}
