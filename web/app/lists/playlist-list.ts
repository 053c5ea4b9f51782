// The playlists: title, clips (with the media they cut from), total duration when every media is known.
// Each can be edited in place (web/app/edit/): a new playlist from the button by the heading, the others
// from their Edit button, which opens the editor in a row under theirs. Writes go to the server's HTTP API;
// what shows is always what came back over WebRTC.
import { css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { ObjectView } from '../core/describe.ts';
import { formatMs } from '../core/format.ts';
import { apiBase, EditApi } from '../edit/api.ts';
import '../edit/playlist-create.ts';
import '../edit/playlist-editor.ts';
import { hrefFor, parseRoute } from '../shell/router.ts';
import { ObjectList } from './list-base.ts';

const MAX_CHIPS = 8;

@customElement('stateos-playlist-list')
export class StateosPlaylistList extends ObjectList {
  static override styles = [
    ...ObjectList.styles,
    css`
      .head {
        display: flex;
        align-items: center;
        justify-content: space-between;
        padding-right: 14px;
      }
      .create {
        margin: 0 14px 12px;
      }
      tr.editor-row > td {
        background: var(--surface-2);
        border-left: 3px solid var(--app);
        padding: 10px 14px 12px;
      }
      tr.open > td {
        background: var(--surface-2);
      }
      .actions button {
        margin-left: 10px;
      }
    `,
  ];

  protected readonly app = 'playlists';
  protected readonly heading = 'Playlists';
  protected readonly emptyText = html`No playlists yet: create one with “New playlist”, or <code>npx stateos playlist create "Title" MEDIA --server URL</code>.`;

  @state() private creating = false;
  /** The playlist whose editor is open. */
  @state() private openId: string | undefined;
  /** Said (politely) to screen readers: what happened to a playlist whose editor went away. */
  @state() private notice = '';
  private editApi: EditApi | undefined;
  /** After the next render: what to focus. */
  private focusNext: (() => void) | undefined;

  private get api(): EditApi {
    const base = apiBase(this.route?.server, location.origin);
    if (this.editApi?.base !== base) this.editApi = new EditApi(base);
    return this.editApi;
  }

  override willUpdate(changed: Map<string, unknown>): void {
    super.willUpdate(changed);
    // the open playlist was deleted (here or anywhere): close its editor; focus the button by the heading if it was inside
    if (this.openId && !this.model?.byApp('playlists').some((v) => v.id === this.openId)) {
      const hadFocus = this.renderRoot.querySelector('stateos-playlist-editor')?.matches(':focus-within') ?? false;
      this.openId = undefined;
      this.notice = 'The playlist was deleted.';
      if (hadFocus) this.focusNext = () => this.renderRoot.querySelector<HTMLElement>('button.new')?.focus();
    }
  }

  override updated(): void {
    const f = this.focusNext;
    this.focusNext = undefined;
    f?.();
  }

  override render() {
    const items = this.model?.byApp(this.app) ?? [];
    return html`<section class=${`app-${this.app}`} aria-labelledby="h">
      <div class="head">
        <h2 id="h">${this.heading} <span class="count">${items.length}</span></h2>
        <button type="button" class="new" aria-expanded=${this.creating ? 'true' : 'false'} @click=${this.toggleCreate}>New playlist</button>
      </div>
      ${this.creating
        ? html`<div class="create">
            <stateos-playlist-create .model=${this.model} .api=${this.api} @created=${this.created} @cancel=${this.cancelCreate}></stateos-playlist-create>
          </div>`
        : nothing}
      ${items.length === 0 ? html`<p class="empty">${this.emptyText}</p>` : this.table(items)}
      <p class="visually-hidden" role="status">${this.notice}</p>
    </section>`;
  }

  protected table(items: ObjectView[]) {
    const route = this.route ?? parseRoute('/', '');
    return html`<table>
      <caption class="visually-hidden">
        Playlists: title, clips and duration
      </caption>
      <thead>
        <tr>
          <th scope="col">Title</th>
          <th scope="col" class="num">Clips</th>
          <th scope="col">Clips from</th>
          <th scope="col" class="num">Duration</th>
          <th scope="col"><span class="visually-hidden">Actions</span></th>
        </tr>
      </thead>
      <tbody>
        ${repeat(
          items,
          (v) => v.key,
          (v) => {
            const clips = v.playlist?.clips ?? [];
            const open = this.openId === v.id;
            return html`<tr class="${this.flash(v)} ${open ? 'open' : ''}" data-id=${v.id}>
                <td><span class="title">${v.title}</span><span class="id">${v.id}</span></td>
                <td class="num">${clips.length}</td>
                <td>
                  ${clips.slice(0, MAX_CHIPS).map(
                    (c) => html`<span class="chip ${c.missing ? 'missing' : ''}" title=${c.missing ? `media ${c.media} is not known here` : `${formatMs(c.startMs)} to ${c.endMs === undefined ? 'the end' : formatMs(c.endMs)}`}
                      >${c.title}</span
                    >`,
                  )}${clips.length > MAX_CHIPS ? html`<span class="muted">and ${clips.length - MAX_CHIPS} more</span>` : ''}
                </td>
                <td class="num">${v.playlist?.durationMs === undefined ? '–' : formatMs(v.playlist.durationMs)}</td>
                <td class="actions">
                  <button type="button" class="edit" aria-expanded=${open ? 'true' : 'false'} aria-controls=${open ? `edit-${v.id}` : nothing} aria-label=${`Edit ${v.title}`} @click=${() => this.toggle(v.id)}>
                    Edit
                  </button>
                  <a data-nav="1" href=${hrefFor('canvas', route, { focus: v.id })} aria-label=${`Show ${v.title} on the canvas`}>On canvas</a>
                </td>
              </tr>
              ${open
                ? html`<tr class="editor-row" @keydown=${(e: KeyboardEvent) => this.onEditorKey(e, v.id)}>
                    <td colspan="5" id=${`edit-${v.id}`}>
                      <stateos-playlist-editor role="region" .view=${v} .model=${this.model} .api=${this.api} aria-label=${`Editing ${v.title}`} @close=${() => this.close(v.id)}></stateos-playlist-editor>
                    </td>
                  </tr>`
                : nothing}`;
          },
        )}
      </tbody>
    </table>`;
  }

  private editor() {
    return this.renderRoot.querySelector('stateos-playlist-editor');
  }

  private toggle(id: string) {
    if (this.openId === id) return this.close(id);
    this.openId = id;
    this.notice = '';
    this.focusNext = () => void this.editor()?.updateComplete.then(() => this.editor()?.focus());
  }

  private close(id: string) {
    this.openId = undefined;
    this.focusNext = () => this.renderRoot.querySelector<HTMLElement>(`tr[data-id="${id}"] button.edit`)?.focus();
  }

  private onEditorKey(e: KeyboardEvent, id: string) {
    if (e.key !== 'Escape') return;
    e.stopPropagation();
    this.close(id);
  }

  private toggleCreate() {
    this.creating = !this.creating;
    if (this.creating) this.focusNext = () => void this.renderRoot.querySelector('stateos-playlist-create')?.updateComplete.then(() => this.renderRoot.querySelector('stateos-playlist-create')?.focus());
  }

  private cancelCreate() {
    this.creating = false;
    this.focusNext = () => this.renderRoot.querySelector<HTMLElement>('button.new')?.focus();
  }

  /** A new playlist arrived: open its editor at the form that adds clips. */
  private created(e: CustomEvent<{ id: string }>) {
    this.creating = false;
    this.openId = e.detail.id;
    this.notice = '';
    this.focusNext = () => void this.editor()?.updateComplete.then(() => this.editor()?.focusAdd());
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-playlist-list': StateosPlaylistList;
  }
}
