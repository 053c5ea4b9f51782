// Bridges the ObjectsModel into a component: subscribes while the host is connected and asks it to render
// again when objects change (only when `relevant` says a change concerns it). Symmetric: what
// hostConnected registers, hostDisconnected removes.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ObjectsModel } from '../core/objects.ts';

export class ObjectsController implements ReactiveController {
  private off: (() => void) | undefined;
  private connected = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly model: () => ObjectsModel | undefined,
    private readonly relevant: (keys: ReadonlySet<string>) => boolean = () => true,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.connected = true;
    this.off?.();
    this.off = this.model()?.changed.on(({ keys }) => {
      if (this.relevant(keys)) this.host.requestUpdate();
    });
  }

  hostDisconnected(): void {
    this.connected = false;
    this.off?.();
    this.off = undefined;
  }

  /** The model was replaced (a property set after connecting): follow the new one. */
  reattach(): void {
    if (this.connected) this.hostConnected();
  }
}
