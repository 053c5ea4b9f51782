// A listener set with symmetric subscribe/unsubscribe. A throwing listener cannot break the engine or the
// other listeners: its error is rethrown on a fresh microtask, where the runtime reports it.
export class Emitter<T> {
  private readonly listeners = new Set<{ fn: (value: T) => void }>();

  /** Returns the function that removes this subscription (and only this one). */
  on(fn: (value: T) => void): () => void {
    const entry = { fn };
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  emit(value: T): void {
    for (const { fn } of [...this.listeners]) {
      try {
        fn(value);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
