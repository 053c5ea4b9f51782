// <stateos-clip-form>: a clip's start and end in seconds (and, when adding, the media it cuts from), checked
// before it is sent (input.ts: clipRange). Fires `clip-submit` with {media, range}; Escape fires `cancel`.
import { html, LitElement, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { formatMs } from '../core/format.ts';
import { shared } from '../styles/shared.ts';
import { type ClipRange, clipRange } from './input.ts';
import { editStyles } from './styles.ts';

export interface MediaChoice {
  id: string;
  title: string;
  /** Known when the media's metadata is here. */
  durationMs: number | undefined;
}

export interface ClipSubmit {
  media: string;
  range: ClipRange;
}

let forms = 0;

@customElement('stateos-clip-form')
export class StateosClipForm extends LitElement {
  static override styles = [shared, editStyles];

  /** Adding: the media to choose from. Trimming: leave empty and set `mediaId`. */
  @property({ attribute: false }) choices: MediaChoice[] = [];
  /** Trimming: the clip's media (and its length, for the check). */
  @property() mediaId = '';
  @property({ attribute: false }) mediaMs: number | undefined;
  /** The fields' first values (seconds). */
  @property() start = '';
  @property() end = '';
  @property() submitLabel = 'Add clip';
  /** What the form is about, for screen readers: "clip 2, Intro". */
  @property() subject = 'new clip';
  @property({ type: Boolean }) busy = false;

  @state() private startText = '';
  @state() private endText = '';
  @state() private chosen = '';
  @state() private problem: { field: 'start' | 'end' | 'media'; error: string } | undefined;
  @query('select, input') private firstField!: HTMLElement | null;
  private readonly uid = `clip-form-${++forms}`;

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('start')) this.startText = this.start;
    if (changed.has('end')) this.endText = this.end;
    if (changed.has('choices') && !this.choices.some((c) => c.id === this.chosen)) this.chosen = this.choices[0]?.id ?? '';
  }

  override focus(): void {
    this.firstField?.focus();
  }

  /** Back to the first values (after an add, or on Escape). */
  reset(): void {
    this.startText = this.start;
    this.endText = this.end;
    this.problem = undefined;
  }

  override render() {
    const adding = this.choices.length > 0 || !this.mediaId;
    const err = `${this.uid}-error`;
    const invalid = (f: string) => (this.problem?.field === f ? 'true' : 'false');
    const describedBy = (f: string) => (this.problem?.field === f ? err : nothing);
    return html`<form @submit=${this.submit} @keydown=${this.onKey} aria-label=${`${this.submitLabel}: ${this.subject}`}>
      ${adding
        ? html`<label
            >Media
            <select .value=${this.chosen} @change=${(e: Event) => (this.chosen = (e.target as HTMLSelectElement).value)} aria-invalid=${invalid('media')} aria-describedby=${describedBy('media')}>
              ${this.choices.map((m) => html`<option value=${m.id} ?selected=${m.id === this.chosen}>${m.title}${m.durationMs === undefined ? '' : ` (${formatMs(m.durationMs)})`}</option>`)}
            </select></label
          >`
        : nothing}
      <label
        >Start (seconds)
        <input
          class="seconds start"
          type="text"
          inputmode="decimal"
          autocomplete="off"
          placeholder="0"
          .value=${this.startText}
          @input=${(e: Event) => (this.startText = (e.target as HTMLInputElement).value)}
          aria-invalid=${invalid('start')}
          aria-describedby=${describedBy('start')}
      /></label>
      <label
        >End (seconds)
        <input
          class="seconds end"
          type="text"
          inputmode="decimal"
          autocomplete="off"
          placeholder="to the end"
          .value=${this.endText}
          @input=${(e: Event) => (this.endText = (e.target as HTMLInputElement).value)}
          aria-invalid=${invalid('end')}
          aria-describedby=${describedBy('end')}
      /></label>
      <button type="submit" class="primary" aria-disabled=${this.busy ? 'true' : 'false'}>${this.submitLabel}</button>
      ${adding ? nothing : html`<button type="button" @click=${this.cancel}>Cancel</button>`}
      ${this.problem ? html`<p class="field-error" id=${err} role="alert">${this.problem.error}</p>` : nothing}
    </form>`;
  }

  private submit(e: Event) {
    e.preventDefault();
    if (this.busy) return;
    const media = this.mediaId || this.chosen;
    if (!media) {
      this.problem = { field: 'media', error: 'There is no media to cut a clip from yet' };
      return;
    }
    const mediaMs = this.mediaId ? this.mediaMs : this.choices.find((c) => c.id === media)?.durationMs;
    const r = clipRange(this.startText, this.endText, mediaMs);
    if (!r.ok) {
      this.problem = { field: r.field, error: r.error };
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>(`input.${r.field}`)?.focus());
      return;
    }
    this.problem = undefined;
    this.dispatchEvent(new CustomEvent<ClipSubmit>('clip-submit', { detail: { media, range: r.value } }));
  }

  private cancel() {
    this.reset();
    this.dispatchEvent(new CustomEvent('cancel'));
  }

  private onKey(e: KeyboardEvent) {
    if (e.key !== 'Escape') return;
    e.stopPropagation();
    this.cancel();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-clip-form': StateosClipForm;
  }
}
