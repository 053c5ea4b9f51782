// <stateos-playlist-create>: a new playlist's title. Fires `created` ({id}) once the new playlist has reached
// this page over WebRTC; Cancel or Escape fires `cancel`.
import { html, LitElement } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { PLAYLIST } from '../../../shared/media/stu-types.ts';
import { objectKey } from '../core/describe.ts';
import type { ObjectsModel } from '../core/objects.ts';
import { shared } from '../styles/shared.ts';
import type { EditApi } from './api.ts';
import { EditAction } from './edit-action.ts';
import { editStyles } from './styles.ts';

@customElement('stateos-playlist-create')
export class StateosPlaylistCreate extends LitElement {
  static override styles = [shared, editStyles];

  @property({ attribute: false }) model: ObjectsModel | undefined;
  @property({ attribute: false }) api!: EditApi;

  @state() private titleText = '';
  @query('input') private input!: HTMLInputElement | null;
  private readonly action = new EditAction(this, () => this.model);

  override focus(): void {
    this.input?.focus();
  }

  override render() {
    return html`<form @submit=${this.submit} @keydown=${this.onKey} aria-label="New playlist">
        <label
          >Title of the new playlist
          <input type="text" maxlength="1024" autocomplete="off" size="32" .value=${this.titleText} @input=${(e: Event) => (this.titleText = (e.target as HTMLInputElement).value)}
        /></label>
        <button type="submit" class="primary" aria-disabled=${this.action.busy ? 'true' : 'false'}>Create playlist</button>
        <button type="button" @click=${this.cancel}>Cancel</button>
      </form>
      ${this.action.render()}`;
  }

  private async submit(e: Event) {
    e.preventDefault();
    const title = this.titleText.trim();
    if (!title) {
      this.action.fail('Give the playlist a title');
      this.input?.focus();
      return;
    }
    const made = await this.action.run(
      { doing: `Creating the playlist “${title}”`, failed: `Could not create the playlist “${title}”` },
      () => this.api.createPlaylist(title),
      (answer, model) => model.get(objectKey({ id: answer.id, type: PLAYLIST })) !== undefined,
    );
    if (made) {
      this.titleText = '';
      this.dispatchEvent(new CustomEvent('created', { detail: { id: made.id } }));
    }
  }

  private cancel() {
    this.titleText = '';
    this.action.clearError();
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
    'stateos-playlist-create': StateosPlaylistCreate;
  }
}
