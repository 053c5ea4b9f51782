// The channels: name, mode (live or on demand), their playlists, and the HLS address players open. Each can
// be edited in place (web/app/edit/): a new channel from the button by the heading, the others from their
// Edit button, which opens the editor in a row under theirs. Writes go to the server's HTTP API; what shows
// is always what came back over WebRTC.
import { html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { ObjectView } from '../core/describe.ts';
import { formatTime } from '../core/format.ts';
import type { EditApi } from '../edit/api.ts';
import '../edit/channel-create.ts';
import '../edit/channel-editor.ts';
import { hrefFor, parseRoute } from '../shell/router.ts';
import { EditableList } from './editable-list.ts';

@customElement('stateos-channel-list')
export class StateosChannelList extends EditableList {
  protected readonly noun = 'channel';
  protected readonly createTag = 'stateos-channel-create';
  protected readonly editorTag = 'stateos-channel-editor';

  protected readonly app = 'channels';
  protected readonly heading = 'Channels';
  protected readonly emptyText = html`No channels yet: create one with “New channel”, or <code>npx stateos channel create NAME PLAYLIST --server URL</code>.`;

  protected createForm(api: EditApi) {
    return html`<stateos-channel-create .model=${this.model} .api=${api} @created=${this.created} @cancel=${this.cancelCreate}></stateos-channel-create>`;
  }

  protected editorOf(v: ObjectView, api: EditApi) {
    return html`<stateos-channel-editor role="region" .view=${v} .model=${this.model} .api=${api} aria-label=${`Editing channel ${v.channel?.name ?? v.title}`} @close=${() => this.close(v.id)}></stateos-channel-editor>`;
  }


  protected table(items: ObjectView[]) {
    const route = this.route ?? parseRoute('/', '');
    return html`<table>
      <caption class="visually-hidden">
        Channels: name, mode and playlists
      </caption>
      <thead>
        <tr>
          <th scope="col">Channel</th>
          <th scope="col">Mode</th>
          <th scope="col">Playlists</th>
          <th scope="col">HLS</th>
          <th scope="col"><span class="visually-hidden">Actions</span></th>
        </tr>
      </thead>
      <tbody>
        ${repeat(
          items,
          (v) => v.key,
          (v) => {
            const c = v.channel;
            const hls = c?.name ? `/hls/channel/${encodeURIComponent(c.name)}/index.m3u8` : undefined;
            const open = this.openId === v.id;
            return html`<tr class="${this.flash(v)} ${open ? 'open' : ''}" data-id=${v.id}>
                <td><span class="title">${v.title}</span><span class="id">${c?.name ?? v.id}</span></td>
                <td>${c?.mode === 'on-demand' ? 'on demand' : (c?.mode ?? '?')}${c?.mode === 'live' && c.startMs !== undefined ? html`<br /><span class="muted">since ${formatTime(c.startMs)}</span>` : ''}</td>
                <td>${c?.playlists.map((p) => html`<span class="chip ${p.title ? '' : 'missing'}">${p.title ?? p.id.slice(0, 8)}</span>`)}</td>
                <td>${hls ? html`<a href=${hls} aria-label=${`HLS playlist of channel ${c?.name}`}><code>${hls}</code></a>` : '–'}</td>
                <td class="actions">
                  ${this.editButton(v, `channel ${c?.name ?? v.title}`)}
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
    'stateos-channel-list': StateosChannelList;
  }
}
