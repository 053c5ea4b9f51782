// <stateos-channel-editor>: one channel's edits: its title, its mode (live starts now when it had no start),
// its playlists (add one this page holds, remove one), delete. Its name never changes (docs/MEDIA.md). As
// for playlists, each change is a request to the server and what shows is the page's own copy (`view`).
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { CHANNEL, PLAYLIST } from '../../../shared/media/stu-types.ts';
import { ObjectsController } from '../controllers/objects-controller.ts';
import { objectKey, type ObjectView } from '../core/describe.ts';
import { formatTime } from '../core/format.ts';
import type { ObjectsModel } from '../core/objects.ts';
import { shared } from '../styles/shared.ts';
import type { EditApi, Written } from './api.ts';
import './confirm-delete.ts';
import { EditAction } from './edit-action.ts';
import { atLeast, type ChannelOp } from './input.ts';
import { editStyles } from './styles.ts';
import { settleFocus } from './wait.ts';

type Mode = 'live' | 'on-demand';
const modeOf = (v: ObjectView): Mode => (v.channel?.mode === 'live' ? 'live' : 'on-demand');

@customElement('stateos-channel-editor')
export class StateosChannelEditor extends LitElement {
  static override styles = [
    shared,
    editStyles,
    css`
      .top {
        display: flex;
        flex-wrap: wrap;
        justify-content: space-between;
        align-items: flex-end;
        gap: 8px 24px;
      }
      .forms {
        display: flex;
        flex-wrap: wrap;
        gap: 8px 24px;
      }
      ol {
        margin: 0 0 8px;
        padding-left: 24px;
      }
      li {
        padding: 3px 0;
      }
      li button {
        margin-left: 8px;
      }
      .empty {
        color: var(--muted);
        margin: 4px 0 8px;
      }
      .bottom {
        margin-top: 12px;
        display: flex;
        justify-content: flex-end;
      }
    `,
  ];

  /** The channel as this page holds it. */
  @property({ attribute: false }) view!: ObjectView;
  @property({ attribute: false }) model: ObjectsModel | undefined;
  @property({ attribute: false }) api!: EditApi;

  @state() private titleText = '';
  @state() private mode: Mode = 'on-demand';
  @state() private adding = '';
  private shown: { title?: string; mode?: Mode } = {};
  @query('.title-input') private titleInput!: HTMLInputElement | null;

  private readonly action = new EditAction(this, () => this.model);
  // the playlists to choose from change with the playlists, not only with this channel
  private readonly playlists = new ObjectsController(
    this,
    () => this.model,
    (keys) => [...keys].some((k) => k.startsWith(`${PLAYLIST}:`)),
  );

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('model')) this.playlists.reattach();
    // the fields follow the channel, unless the user is changing them
    const c = this.current;
    if (c.title !== this.shown.title) this.titleText = c.title;
    if (modeOf(c) !== this.shown.mode) this.mode = modeOf(c);
    this.shown = { title: c.title, mode: modeOf(c) };
    const choices = this.choices();
    if (!choices.some((p) => p.id === this.adding)) this.adding = choices[0]?.id ?? '';
  }

  override focus(): void {
    this.titleInput?.focus();
  }

  /** The channel as the model holds it now (`view` is what the list last rendered). */
  private get current(): ObjectView {
    return this.model?.get(this.view.key) ?? this.view;
  }

  /** The playlists this page holds that the channel does not have. */
  private choices(): ObjectView[] {
    const have = new Set(this.current.channel?.playlists.map((p) => p.id));
    return (this.model?.byApp('playlists') ?? []).filter((p) => !have.has(p.id));
  }

  override render() {
    const v = this.current;
    const c = v.channel;
    const busy = this.action.busy ? 'true' : 'false';
    const value = (e: Event) => (e.target as HTMLInputElement | HTMLSelectElement).value;
    const choices = this.choices();
    return html`<div class="top">
        <div class="forms">
          <form @submit=${this.saveTitle} @keydown=${this.onTitleKey} aria-label=${`Title of the channel ${c?.name ?? ''}`}>
            <label
              >Title
              <input class="title-input" type="text" maxlength="1024" size="24" .value=${this.titleText} @input=${(e: Event) => (this.titleText = value(e))}
            /></label>
            <button type="submit" aria-disabled=${busy}>Save title</button>
          </form>
          <form @submit=${this.saveMode} aria-label=${`Mode of the channel ${c?.name ?? ''}`}>
            <label
              >Mode
              <select class="mode" .value=${this.mode} @change=${(e: Event) => (this.mode = value(e) === 'live' ? 'live' : 'on-demand')}>
                <option value="on-demand" ?selected=${this.mode === 'on-demand'}>on demand</option>
                <option value="live" ?selected=${this.mode === 'live'}>live</option>
              </select></label
            >
            <button type="submit" aria-disabled=${busy}>Set mode</button>
            ${c?.mode === 'live' && c.startMs !== undefined ? html`<span class="hint">live since ${formatTime(c.startMs)}</span>` : nothing}
          </form>
        </div>
        <button type="button" @click=${() => this.dispatchEvent(new CustomEvent('close'))} aria-label=${`Close the editor of ${v.title}`}>Done</button>
      </div>
      <h3 id="pl-h">Playlists, in the order they play</h3>
      ${c && c.playlists.length > 0
        ? html`<ol aria-labelledby="pl-h">
            ${c.playlists.map(
              (p, i) =>
                html`<li data-playlist=${p.id}>
                  <span class=${p.title ? '' : 'missing'}>${p.title ?? `playlist ${p.id.slice(0, 8)} (not known here)`}</span
                  ><button type="button" class="small danger remove" aria-disabled=${busy} aria-label=${`Remove ${p.title ?? p.id} from the channel`} @click=${() => this.removePlaylist(p.id, i)}>
                    Remove
                  </button>
                </li>`,
            )}
          </ol>`
        : html`<p class="empty">No playlists: the channel plays nothing yet.</p>`}
      <form class="add" @submit=${this.addPlaylist} aria-label="Add a playlist to the channel">
        <label
          >Add a playlist
          <select class="add-playlist" .value=${this.adding} @change=${(e: Event) => (this.adding = value(e))} ?disabled=${choices.length === 0}>
            ${choices.length === 0 ? html`<option value="">(every playlist is in it)</option>` : choices.map((p) => html`<option value=${p.id} ?selected=${p.id === this.adding}>${p.title}</option>`)}
          </select></label
        >
        <button type="submit" class="primary" aria-disabled=${choices.length === 0 ? 'true' : busy}>Add playlist</button>
      </form>
      ${this.action.render()}
      <div class="bottom">
        <stateos-confirm-delete label="Delete channel" what=${`the channel “${v.title}” (${c?.name ?? v.id})`} ?busy=${this.action.busy} @confirm=${this.deleteChannel}></stateos-confirm-delete>
      </div>`;
  }

  // ------------------------------------------------------------------------------------------ actions

  private patch(doing: string, failed: string, ops: ChannelOp[]): Promise<Written | undefined> {
    const id = this.current.id;
    return this.action.run(
      { doing, failed },
      () => this.api.editChannel(id, ops),
      (answer, model) => atLeast(model.get(objectKey({ id, type: CHANNEL }))?.version, answer.version),
    );
  }

  private async saveTitle(e: Event) {
    e.preventDefault();
    const title = this.titleText.trim();
    if (title === this.current.title) return;
    await this.patch(`Setting the title to “${title}”`, 'Could not change the title', [{ op: 'set', title }]);
  }

  private onTitleKey(e: KeyboardEvent) {
    if (e.key !== 'Escape' || (this.titleText === this.current.title && !this.action.error)) return;
    e.stopPropagation();
    this.titleText = this.current.title;
    this.action.clearError();
  }

  private async saveMode(e: Event) {
    e.preventDefault();
    if (this.mode === modeOf(this.current)) return;
    const mode = this.mode;
    await this.patch(`Switching to ${mode === 'live' ? 'live' : 'on demand'}`, 'Could not change the mode', [{ op: 'set', mode }]);
  }

  private async addPlaylist(e: Event) {
    e.preventDefault();
    const id = this.adding;
    if (!id || this.action.busy) return;
    const title = this.model?.get(objectKey({ id, type: PLAYLIST }))?.title ?? id;
    const done = await this.patch(`Adding “${title}”`, `Could not add “${title}”`, [{ op: 'add', playlist: id }]);
    if (done) {
      await this.settle('select.add-playlist', 'li:last-child button.remove');
    }
  }

  private async removePlaylist(id: string, i: number) {
    if (this.action.busy) return;
    const title = this.current.channel?.playlists[i]?.title ?? id;
    const done = await this.patch(`Removing “${title}”`, `Could not remove “${title}”`, [{ op: 'remove', playlist: id }]);
    if (!done) return;
    // the playlist that took its place, else the one before, else the form that adds one
    await this.settle(`li:nth-child(${i + 1}) button.remove`, `li:nth-child(${i}) button.remove`, 'select.add-playlist');
  }

  private async deleteChannel() {
    const id = this.current.id;
    const name = this.current.channel?.name ?? id;
    await this.action.run(
      { doing: `Deleting the channel ${name}`, failed: `Could not delete the channel ${name}` },
      () => this.api.deleteChannel(id),
      (_answer, model) => !model.get(objectKey({ id, type: CHANNEL })),
    );
  }

  /** Renders what the model now holds (the change has arrived), then focuses the first of `selectors` there. */
  private settle(...selectors: string[]): Promise<void> {
    return settleFocus(this, ...selectors);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-channel-editor': StateosChannelEditor;
  }
}
