// The Objects view: what the viewer holds, as three lists that follow the STUs as they arrive.
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ObjectsModel } from '../core/objects.ts';
import type { Viewer } from '../../sync/viewer.ts';
import type { Route } from '../shell/router.ts';
import { shared } from '../styles/shared.ts';
import '../upload/stateos-upload.ts';
import './channel-list.ts';
import './media-list.ts';
import './playlist-list.ts';

@customElement('stateos-lists')
export class StateosLists extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: grid;
        gap: 16px;
        padding: 16px;
        max-width: 1200px;
        margin: 0 auto;
      }
      .intro {
        margin: 0;
        color: var(--muted);
        max-width: 80ch;
      }
    `,
  ];

  @property({ attribute: false }) model: ObjectsModel | undefined;
  @property({ attribute: false }) route: Route | undefined;
  /** The page's viewer (uploads go over its session with the server). */
  @property({ attribute: false }) viewer: Viewer | undefined;

  override render() {
    return html`<p class="intro">
        The business objects this browser holds. It joined the state server as a viewer over WebRTC; every metadata STU of what a
        viewer may read (the objects anonymous may read: their ACLs say so) is copied into this page's own ring in IndexedDB, and the
        objects are rebuilt from them here, so the lists change the moment a server anywhere in the cluster changes an object. Signed
        in, your changes go to the server's State API as you.
      </p>
      <stateos-upload .route=${this.route} .viewer=${this.viewer}></stateos-upload>
      <stateos-media-list .model=${this.model} .route=${this.route}></stateos-media-list>
      <stateos-playlist-list .model=${this.model} .route=${this.route}></stateos-playlist-list>
      <stateos-channel-list .model=${this.model} .route=${this.route}></stateos-channel-list>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-lists': StateosLists;
  }
}
