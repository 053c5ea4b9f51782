// <stateos-playlist-editor>: one playlist's edits: rename, its clips (trim, move up and down, remove), add a
// clip from the media this page holds, delete. Every change is a request to the server (api.ts); what is
// shown is always the page's own copy of the playlist (`view`), which changes when the STU comes back over
// WebRTC. Focus stays where the next action is: on the moved clip's button, on the clip after a removed one.
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { MEDIA_META, PLAYLIST } from '../../../shared/media/stu-types.ts';
import { ObjectsController } from '../controllers/objects-controller.ts';
import { type ClipView, objectKey, type ObjectView } from '../core/describe.ts';
import { formatMs } from '../core/format.ts';
import type { ObjectsModel } from '../core/objects.ts';
import { shared } from '../styles/shared.ts';
import type { EditApi, PlaylistWritten } from './api.ts';
import type { ClipSubmit, MediaChoice, StateosClipForm } from './clip-form.ts';
import './clip-form.ts';
import './confirm-delete.ts';
import { EditAction } from './edit-action.ts';
import { atLeast, formatSeconds, moveClipOps, type PlaylistOp, trimOp } from './input.ts';
import { editStyles } from './styles.ts';
import { settleFocus } from './wait.ts';

@customElement('stateos-playlist-editor')
export class StateosPlaylistEditor extends LitElement {
  static override styles = [
    shared,
    editStyles,
    css`
      .top {
        display: flex;
        flex-wrap: wrap;
        justify-content: space-between;
        align-items: flex-end;
        gap: 8px;
      }
      .title-input {
        width: 22em;
      }
      table {
        margin-top: 4px;
      }
      td,
      th {
        padding: 4px 8px;
        vertical-align: middle;
      }
      td.buttons {
        white-space: nowrap;
        text-align: right;
      }
      td.buttons button {
        margin-left: 4px;
      }
      .clip-media {
        display: block;
        color: var(--muted);
        font-size: 12px;
      }
      .empty {
        color: var(--muted);
        margin: 4px 0;
      }
      .bottom {
        margin-top: 12px;
        display: flex;
        justify-content: flex-end;
      }
    `,
  ];

  /** The playlist as this page holds it. */
  @property({ attribute: false }) view!: ObjectView;
  @property({ attribute: false }) model: ObjectsModel | undefined;
  @property({ attribute: false }) api!: EditApi;

  @state() private titleText = '';
  private shownTitle: string | undefined;
  /** The clip whose range is being edited. */
  @state() private trimming: string | undefined;
  @query('.title-input') private titleInput!: HTMLInputElement | null;
  @query('.add stateos-clip-form') private addForm!: StateosClipForm | null;

  private readonly action = new EditAction(this, () => this.model);
  // the media to choose from change with the media, not only with this playlist
  private readonly media = new ObjectsController(
    this,
    () => this.model,
    (keys) => [...keys].some((k) => k.startsWith(`${MEDIA_META}:`)),
  );

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('model')) this.media.reattach();
    // the title field follows the title, unless the user is typing a new one
    const title = this.current.title;
    if (title !== this.shownTitle) {
      this.titleText = title;
      this.shownTitle = title;
    }
  }

  /** Focus the first field (the title). */
  override focus(): void {
    this.titleInput?.focus();
  }

  /** Focus the form that adds a clip (what a new playlist needs first). */
  focusAdd(): void {
    this.addForm?.focus();
  }

  /** The playlist as the model holds it now (`view` is what the list last rendered). */
  private get current(): ObjectView {
    return this.model?.get(this.view.key) ?? this.view;
  }

  private get clips(): ClipView[] {
    return this.current.playlist?.clips ?? [];
  }

  private mediaView(id: string): ObjectView | undefined {
    return this.model?.get(objectKey({ id, type: MEDIA_META }));
  }

  private choices(): MediaChoice[] {
    return (this.model?.byApp('media') ?? []).map((m) => ({ id: m.id, title: m.title, durationMs: m.media?.duration === undefined ? undefined : Math.round(m.media.duration * 1000) }));
  }

  override render() {
    const v = this.current;
    const clips = this.clips;
    const busy = this.action.busy;
    return html`<div class="top">
        <form @submit=${this.rename} @keydown=${this.onTitleKey} aria-label=${`Rename the playlist ${v.title}`}>
          <label
            >Title
            <input class="title-input" type="text" required maxlength="1024" .value=${this.titleText} @input=${(e: Event) => (this.titleText = (e.target as HTMLInputElement).value)}
          /></label>
          <button type="submit" aria-disabled=${busy ? 'true' : 'false'}>Rename</button>
        </form>
        <button type="button" @click=${() => this.dispatchEvent(new CustomEvent('close'))} aria-label=${`Close the editor of ${v.title}`}>Done</button>
      </div>
      <h3 id="clips-h">Clips</h3>
      ${clips.length === 0
        ? html`<p class="empty">No clips yet: add one below.</p>`
        : html`<table aria-labelledby="clips-h">
            <thead>
              <tr>
                <th scope="col" class="num">#</th>
                <th scope="col">Clip</th>
                <th scope="col">From – to</th>
                <th scope="col" class="num">Length</th>
                <th scope="col"><span class="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              ${repeat(
                clips,
                (c) => c.clip,
                (c, i) => (this.trimming === c.clip ? this.trimRow(c, i) : this.clipRow(c, i, clips.length, busy)),
              )}
            </tbody>
          </table>`}
      <h3>Add a clip</h3>
      <div class="add">
        <stateos-clip-form .choices=${this.choices()} subject=${`to ${v.title}`} submitLabel="Add clip" ?busy=${busy} @clip-submit=${this.add} @cancel=${() => this.action.clearError()}></stateos-clip-form>
      </div>
      ${this.action.render()}
      <div class="bottom">
        <stateos-confirm-delete label="Delete playlist" what=${`the playlist “${v.title}”`} ?busy=${busy} @confirm=${this.deletePlaylist}></stateos-confirm-delete>
      </div>`;
  }

  private clipRow(c: ClipView, i: number, n: number, busy: boolean) {
    const name = `clip ${i + 1}, ${c.title}`;
    const media = this.mediaView(c.media);
    const aria = busy ? 'true' : 'false';
    return html`<tr data-clip=${c.clip}>
      <td class="num">${i + 1}</td>
      <td>
        <span class="clip-title">${c.title}</span>${media && media.title !== c.title ? html`<span class="clip-media">from ${media.title}</span>` : nothing}${c.missing
          ? html`<span class="clip-media">media ${c.media.slice(0, 8)} is not known here</span>`
          : nothing}
      </td>
      <td class="range">${formatMs(c.startMs)} – ${c.endMs === undefined ? 'end' : formatMs(c.endMs)}</td>
      <td class="num">${formatMs(c.durationMs)}</td>
      <td class="buttons">
        <button type="button" class="small trim" aria-label=${`Trim ${name}`} aria-disabled=${aria} @click=${() => this.startTrim(c)}>Trim</button>
        <button type="button" class="small up" aria-label=${`Move ${name} up`} ?disabled=${i === 0} aria-disabled=${aria} @click=${() => this.move(i, -1)}>↑ Up</button>
        <button type="button" class="small down" aria-label=${`Move ${name} down`} ?disabled=${i === n - 1} aria-disabled=${aria} @click=${() => this.move(i, 1)}>↓ Down</button>
        <button type="button" class="small danger remove" aria-label=${`Remove ${name}`} aria-disabled=${aria} @click=${() => this.removeClip(c, i)}>Remove</button>
      </td>
    </tr>`;
  }

  private trimRow(c: ClipView, i: number) {
    const media = this.mediaView(c.media);
    return html`<tr data-clip=${c.clip} class="trimming">
      <td class="num">${i + 1}</td>
      <td colspan="4">
        <stateos-clip-form
          mediaId=${c.media}
          .mediaMs=${media?.media?.duration === undefined ? undefined : Math.round(media.media.duration * 1000)}
          start=${formatSeconds(c.startMs)}
          end=${formatSeconds(c.endMs)}
          submitLabel="Save"
          subject=${`clip ${i + 1}, ${c.title}`}
          ?busy=${this.action.busy}
          @clip-submit=${(e: CustomEvent<ClipSubmit>) => this.trim(c, e.detail)}
          @cancel=${() => this.endTrim(c.clip)}
        ></stateos-clip-form>
      </td>
    </tr>`;
  }

  // ------------------------------------------------------------------------------------------ actions

  private patch(doing: string, failed: string, ops: PlaylistOp[]): Promise<PlaylistWritten | undefined> {
    const id = this.current.id;
    return this.action.run(
      { doing, failed },
      () => this.api.editPlaylist(id, ops),
      (answer, model) => atLeast(model.get(objectKey({ id, type: PLAYLIST }))?.version, answer.version),
    );
  }

  private async rename(e: Event) {
    e.preventDefault();
    const title = this.titleText.trim();
    if (!title) return this.action.fail('The title cannot be empty');
    if (title === this.current.title) return;
    await this.patch(`Renaming to “${title}”`, 'Could not rename the playlist', [{ op: 'rename', title }]);
  }

  private onTitleKey(e: KeyboardEvent) {
    // Escape puts the title back; when there is nothing to put back it closes the editor (the list hears it)
    if (e.key !== 'Escape' || (this.titleText === this.current.title && !this.action.error)) return;
    e.stopPropagation();
    this.titleText = this.current.title;
    this.action.clearError();
  }

  private async add(e: CustomEvent<ClipSubmit>) {
    const { media, range } = e.detail;
    const op: PlaylistOp = { op: 'add', media, startMs: range.startMs };
    if (range.endMs !== undefined) op.endMs = range.endMs;
    const done = await this.patch('Adding the clip', 'Could not add the clip', [op]);
    if (done) {
      this.addForm?.reset();
      await this.settle('.add stateos-clip-form');
    }
  }

  private async removeClip(c: ClipView, i: number) {
    if (this.action.busy) return;
    const done = await this.patch(`Removing clip ${i + 1}`, `Could not remove clip ${i + 1}`, [{ op: 'remove', clip: c.clip }]);
    if (!done) return;
    // the clip that took its place, else the one before, else the add form
    const next = done.clips[i] ?? done.clips[i - 1];
    await this.settle(next ? `tr[data-clip="${next.clip}"] button.remove` : '.add stateos-clip-form');
  }

  private async move(i: number, delta: -1 | 1) {
    if (this.action.busy) return;
    const c = this.clips[i];
    const ops = c && moveClipOps(this.clips, i, delta, this.mediaView(c.media)?.title);
    if (!ops) return;
    const done = await this.patch(`Moving clip ${i + 1} ${delta < 0 ? 'up' : 'down'}`, `Could not move clip ${i + 1}`, ops);
    const moved = done?.clips[i + delta];
    if (!moved) return;
    // the same button, unless the clip reached the end it moved to (that one is disabled): then the other
    const to = i + delta;
    const atTop = to === 0;
    const atBottom = to === done.clips.length - 1;
    const button = delta < 0 ? (atTop ? 'down' : 'up') : atBottom ? 'up' : 'down';
    await this.settle(`tr[data-clip="${moved.clip}"] button.${button}`);
  }

  private async startTrim(c: ClipView) {
    if (this.action.busy) return;
    this.action.clearError();
    this.trimming = c.clip;
    await this.settle(`tr[data-clip="${c.clip}"] stateos-clip-form`);
  }

  private async endTrim(clip: string) {
    this.trimming = undefined;
    this.action.clearError();
    await this.settle(`tr[data-clip="${clip}"] button.trim`);
  }

  private async trim(c: ClipView, s: ClipSubmit) {
    const op = trimOp(c, s.range);
    if (!op) return this.endTrim(c.clip);
    const i = this.clips.indexOf(c);
    const done = await this.patch(`Saving clip ${i + 1}`, `Could not change clip ${i + 1}`, [op]);
    if (done) await this.endTrim(c.clip);
  }

  private async deletePlaylist() {
    const id = this.current.id;
    const title = this.current.title;
    // once it arrives the row (and this editor) go away; the list puts focus back
    await this.action.run(
      { doing: `Deleting the playlist “${title}”`, failed: `Could not delete the playlist “${title}”` },
      () => this.api.deletePlaylist(id),
      (_answer, model) => !model.get(objectKey({ id, type: PLAYLIST })),
    );
  }

  /** Renders what the model now holds (the change has arrived), then focuses the first of `selectors` there. */
  private settle(...selectors: string[]): Promise<void> {
    return settleFocus(this, ...selectors);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-playlist-editor': StateosPlaylistEditor;
  }
}
