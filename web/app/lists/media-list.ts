// The media objects: title, duration, tracks, size; play one (?play=ID) or find it on the canvas.
import { html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { ObjectView } from '../core/describe.ts';
import { codecName, formatBytes, formatDuration } from '../core/format.ts';
import { hrefFor, parseRoute } from '../shell/router.ts';
import { ObjectList } from './list-base.ts';

@customElement('stateos-media-list')
export class StateosMediaList extends ObjectList {
  protected readonly app = 'media';
  protected readonly heading = 'Media';
  protected readonly emptyText = html`No media yet. Ingest a file on a server: <code>npx stateos ingest movie.mp4</code>.`;

  protected table(items: ObjectView[]) {
    const route = this.route ?? parseRoute('/', '');
    return html`<table>
      <caption class="visually-hidden">
        Media objects: title, duration, tracks and size
      </caption>
      <thead>
        <tr>
          <th scope="col">Title</th>
          <th scope="col" class="num">Duration</th>
          <th scope="col">Tracks</th>
          <th scope="col" class="num">Size</th>
          <th scope="col"><span class="visually-hidden">Actions</span></th>
        </tr>
      </thead>
      <tbody>
        ${repeat(
          items,
          (v) => v.key,
          (v) => html`<tr class=${this.flash(v)} data-id=${v.id}>
            <td><span class="title">${v.title}</span><span class="id">${v.id}</span></td>
            <td class="num">${formatDuration(v.media?.duration)}</td>
            <td>
              ${v.media?.tracks.map(
                (t) => html`<span class="chip" title=${`${t.kind} track ${t.index}: ${t.codec}`}>${t.kind} ${codecName(t.codec)}${t.format ? ` ${t.format}` : ''}</span>`,
              )}
            </td>
            <td class="num">${formatBytes(v.media?.size)}</td>
            <td class="actions">
              <a data-nav="1" href=${hrefFor(route.view, route, { play: v.id })} aria-label=${`Play ${v.title}`}>Play</a>
              <a data-nav="1" href=${hrefFor('canvas', route, { focus: v.id })} aria-label=${`Show ${v.title} on the canvas`}>On canvas</a>
            </td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-media-list': StateosMediaList;
  }
}
