// <stateos-confirm-delete>: a delete button that asks first. The question replaces the button, focus goes to
// its Cancel (the safe answer); Delete fires `confirm`, Cancel or Escape puts the button back, focused.
import { html, LitElement } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { shared } from '../styles/shared.ts';
import { editStyles } from './styles.ts';

@customElement('stateos-confirm-delete')
export class StateosConfirmDelete extends LitElement {
  static override styles = [shared, editStyles];

  /** What is deleted, in words: 'the playlist “Lobby loop”'. */
  @property() what = '';
  /** The button's text: "Delete playlist". */
  @property() label = 'Delete';
  /** While an edit is under way: the buttons say so and do nothing. */
  @property({ type: Boolean }) busy = false;

  @state() private asking = false;
  @query('.ask') private askButton!: HTMLButtonElement | null;
  @query('.cancel') private cancelButton!: HTMLButtonElement | null;

  override render() {
    if (!this.asking) {
      return html`<button type="button" class="danger ask" aria-label=${`${this.label}: ${this.what}`} @click=${this.ask}>${this.label}…</button>`;
    }
    return html`<div class="confirm" role="group" aria-labelledby="q" @keydown=${this.onKey}>
      <p id="q">Delete ${this.what}? Every server removes it; this cannot be undone.</p>
      <button type="button" class="danger primary yes" aria-describedby="q" aria-disabled=${this.busy ? 'true' : 'false'} @click=${this.yes}>Delete</button>
      <button type="button" class="cancel" aria-describedby="q" @click=${this.cancel}>Cancel</button>
    </div>`;
  }

  private async ask() {
    this.asking = true;
    await this.updateComplete;
    this.cancelButton?.focus();
  }

  private yes() {
    if (this.busy) return;
    this.dispatchEvent(new CustomEvent('confirm', { bubbles: true, composed: true }));
  }

  private async cancel() {
    this.asking = false;
    await this.updateComplete;
    this.askButton?.focus();
  }

  private onKey(e: KeyboardEvent) {
    if (e.key !== 'Escape') return;
    e.stopPropagation();
    void this.cancel();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-confirm-delete': StateosConfirmDelete;
  }
}
