// Completion signals inside one process (the SQLite backend): an event emitter behind the port.
import { EventEmitter } from 'node:events';
import type { CompletionSignals, TaskSignal } from './ports.ts';

export class LocalSignals implements CompletionSignals {
  private readonly bus = new EventEmitter().setMaxListeners(0);

  async publish(id: string, signal: TaskSignal): Promise<void> {
    // Listeners run after the caller's current step, as they would for a signal from another process.
    queueMicrotask(() => this.bus.emit('signal', id, signal));
  }

  subscribe(listener: (id: string, signal: TaskSignal) => void): () => void {
    this.bus.on('signal', listener);
    return () => this.bus.off('signal', listener);
  }

  async close(): Promise<void> {
    this.bus.removeAllListeners();
  }
}
