// The playlists: title, clips (with the media they cut from), total duration when every media is known.
// Each can be edited in place (web/app/edit/): a new playlist from the button by the heading, the others
// from their Edit button, which opens the editor in a row under theirs. Writes go to the server's HTTP API;
// what shows is always what came back over WebRTC.
import { html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { ObjectView } from '../core/describe.ts';
import { formatMs } from '../core/format.ts';
import type { EditApi } from '../edit/api.ts';
import '../edit/playlist-create.ts';
import '../edit/playlist-editor.ts';
import { hrefFor, parseRoute } from '../shell/router.ts';
import { EditableList } from './editable-list.ts';

const MAX_CHIPS = 8;

@customElement('stateos-playlist-list')
export class StateosPlaylistList extends EditableList {
  protected readonly noun = 'playlist';
  protected readonly createTag = 'stateos-playlist-create';
  protected readonly editorTag = 'stateos-playlist-editor';

  protected readonly app = 'playlists';
  protected readonly heading = 'Playlists';
  protected readonly emptyText = html`No playlists yet: create one with “New playlist”, or <code>npx stateos playlist create "Title" MEDIA --server URL</code>.`;

  protected createForm(api: EditApi) {
    return html`<stateos-playlist-create .model=${this.model} .api=${api} @created=${this.created} @cancel=${this.cancelCreate}></stateos-playlist-create>`;
  }

  protected editorOf(v: ObjectView, api: EditApi) {
    return html`<stateos-playlist-editor role="region" .view=${v} .model=${this.model} .api=${api} aria-label=${`Editing ${v.title}`} @close=${() => this.close(v.id)}></stateos-playlist-editor>`;
  }

  /** A new playlist opens at the form that adds clips. */
  protected override focusCreated(editor: HTMLElement): void {
    (editor as HTMLElementTagNameMap['stateos-playlist-editor']).focusAdd();
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
                  ${this.editButton(v, `${v.title}`)}
                  <a data-nav="1" href=${hrefFor('canvas', route, { focus: v.id })} aria-label=${`Show ${v.title} on the canvas`}>On canvas</a>
                </td>
              </tr>
              ${this.editorRow(v, 5)}`;
          },
        )}
      </tbody>
    </table>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-playlist-list': StateosPlaylistList;
  }
}
