// Bridges the ConnectionModel into a component; while reconnecting it also ticks once a second so that the
// "next attempt in N s" count goes down.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ConnectionModel, ConnectionState } from '../core/connection.ts';

export class ConnectionController implements ReactiveController {
  private off: (() => void) | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly model: () => ConnectionModel | undefined,
  ) {
    host.addController(this);
  }

  get value(): ConnectionState | undefined {
    return this.model()?.state;
  }

  hostConnected(): void {
    this.hostDisconnected();
    const m = this.model();
    if (!m) return;
    this.off = m.changed.on(() => this.host.requestUpdate());
    this.ticker = setInterval(() => {
      if (m.state.state === 'reconnecting' || m.state.state === 'connecting') this.host.requestUpdate();
    }, 1000);
  }

  hostDisconnected(): void {
    this.off?.();
    this.off = undefined;
    clearInterval(this.ticker);
    this.ticker = undefined;
  }
}
