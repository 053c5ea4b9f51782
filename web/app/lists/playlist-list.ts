// The playlists: title, clips (with the media they cut from), total duration when every media is known.
import { html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { ObjectView } from '../core/describe.ts';
import { formatMs } from '../core/format.ts';
import { hrefFor, parseRoute } from '../shell/router.ts';
import { ObjectList } from './list-base.ts';

const MAX_CHIPS = 8;

@customElement('stateos-playlist-list')
export class StateosPlaylistList extends ObjectList {
  protected readonly app = 'playlists';
  protected readonly heading = 'Playlists';
  protected readonly emptyText = html`No playlists yet: <code>npx stateos playlist create "Title" MEDIA --server URL</code>.`;

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
            return html`<tr class=${this.flash(v)} data-id=${v.id}>
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
              <td class="actions"><a data-nav="1" href=${hrefFor('canvas', route, { focus: v.id })} aria-label=${`Show ${v.title} on the canvas`}>On canvas</a></td>
            </tr>`;
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
