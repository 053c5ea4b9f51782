// One edit at a time per editor, and what the user sees of it: "Saving…" while the request is out,
// "Waiting for the change to arrive…" until the page's own copy of the object (rebuilt from the STUs that
// came over WebRTC) shows it, then nothing; or the server's error, kept until the next attempt. A reactive
// controller: it re-renders its host at each step and stops waiting when the host goes away.
import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit';
import type { ObjectsModel } from '../core/objects.ts';
import { describeError, whenModel } from './wait.ts';

/** How long a change the server accepted may take to show here before the page says so. */
export const ARRIVAL_TIMEOUT_MS = 15_000;

export type Phase = 'idle' | 'sending' | 'syncing';

export interface ActionText {
  /** "Adding the clip" (shown with "…"). */
  doing: string;
  /** "Could not add the clip" (followed by the server's reason). */
  failed: string;
}


export class EditAction implements ReactiveController {
  phase: Phase = 'idle';
  text: ActionText | undefined;
  error: string | undefined;
  private abort = new AbortController();

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly model: () => ObjectsModel | undefined,
  ) {
    host.addController(this);
  }

  get busy(): boolean {
    return this.phase !== 'idle';
  }

  hostConnected(): void {
    this.abort = new AbortController();
  }

  hostDisconnected(): void {
    this.abort.abort();
  }

  clearError(): void {
    if (this.error === undefined) return;
    this.error = undefined;
    this.host.requestUpdate();
  }

  /** Shows a problem found before sending (a field that does not parse). */
  fail(message: string): void {
    this.error = message;
    this.host.requestUpdate();
  }

  /**
   * Sends one request and waits until `arrived(answer)` holds in the page's model. Returns the answer once it
   * has arrived; undefined when the request failed (the error is shown), when the change has not arrived in
   * time (said so), when another edit is under way, or when the host went away.
   */
  async run<T>(text: ActionText, send: () => Promise<T>, arrived: (answer: T, model: ObjectsModel) => boolean): Promise<T | undefined> {
    if (this.busy) return undefined;
    const abort = this.abort.signal;
    this.phase = 'sending';
    this.text = text;
    this.error = undefined;
    this.host.requestUpdate();
    try {
      const answer = await send();
      const model = this.model();
      if (!model) throw new Error('this page has no objects yet, so the change cannot be shown');
      this.phase = 'syncing';
      this.host.requestUpdate();
      const ok = await whenModel(model, () => arrived(answer, model), ARRIVAL_TIMEOUT_MS, abort);
      if (abort.aborted) return undefined;
      if (!ok) {
        this.error = `${text.doing}: the server accepted it, but the change has not reached this page after ${ARRIVAL_TIMEOUT_MS / 1000} s (is the page still connected?)`;
        return undefined;
      }
      return answer;
    } catch (e) {
      this.error = `${text.failed}: ${describeError(e)}`;
      return undefined;
    } finally {
      this.phase = 'idle';
      this.host.requestUpdate();
    }
  }

  /** The status line (always in the page, so screen readers hear it change) and the error, if any. */
  render() {
    const status = this.phase === 'sending' ? `${this.text?.doing}…` : this.phase === 'syncing' ? 'Saved on the server; waiting for the change to arrive here…' : '';
    return html`<p class="status" role="status">${status ? html`<span class="spinner" aria-hidden="true"></span>${status}` : nothing}</p>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}`;
  }
}
