// What the editable lists (playlists, channels) share: a "New …" button by the heading that opens a create
// form, an Edit button per row that opens the object's editor in a row under it, Escape to close, the focus
// put where the next action is, and the editor closed (and said so) when its object is deleted anywhere.
// Writes go to the server's HTTP API (web/app/edit/api.ts); what shows is what came back over WebRTC.
import { css, html, nothing, type TemplateResult } from 'lit';
import { state } from 'lit/decorators.js';
import type { AppId, ObjectView } from '../core/describe.ts';
import { apiBase, type EditApi, HttpEditApi } from '../edit/api.ts';
import { StateEditApi } from '../edit/state-api.ts';
import { identityFor } from '../core/identity.ts';
import { ObjectList } from './list-base.ts';

/** The editor and create-form elements: focusable, with an update cycle to wait for. */
type Focusable = HTMLElement & { updateComplete: Promise<unknown> };

export abstract class EditableList extends ObjectList {
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

  /** "playlist", "channel": in the button and what is announced. */
  protected abstract readonly noun: string;
  /** Tag names of the create form and the editor. */
  protected abstract readonly createTag: string;
  protected abstract readonly editorTag: string;
  /** The create form, given the API; its `created` and `cancel` events go to `created` and `cancelCreate`
   *  (they do not bubble: bind them on the element). */
  protected abstract createForm(api: EditApi): TemplateResult;
  /** The editor of one object, given the API; its `close` event goes to `close(v.id)`. */
  protected abstract editorOf(v: ObjectView, api: EditApi): TemplateResult;
  /** Where the focus goes in a just-created object's editor (default: the editor). */
  protected focusCreated(editor: Focusable): void {
    editor.focus();
  }

  @state() protected creating = false;
  /** The object whose editor is open. */
  @state() protected openId: string | undefined;
  /** Said (politely) to screen readers: what happened to an object whose editor went away. */
  @state() private notice = '';
  private editApi: EditApi | undefined;
  /** After the next render: what to focus. */
  private focusNext: (() => void) | undefined;

  protected get api(): EditApi {
    const base = apiBase(this.route?.server, location.origin);
    // signed in: the State API as that user; otherwise the server's HTTP API
    const identity = identityFor(base);
    const wanted = identity.credential ? 'state' : 'http';
    if (this.editApi?.base !== base || (this.editApi instanceof StateEditApi ? 'state' : 'http') !== wanted) {
      this.editApi = wanted === 'state' ? new StateEditApi(base, identity) : new HttpEditApi(base);
    }
    return this.editApi;
  }

  override willUpdate(changed: Map<string, unknown>): void {
    super.willUpdate(changed);
    // the open object was deleted (here or anywhere): close its editor; focus the button by the heading if it was inside
    if (this.openId && !this.model?.byApp(this.app as AppId).some((v) => v.id === this.openId)) {
      const hadFocus = this.editor()?.matches(':focus-within') ?? false;
      this.openId = undefined;
      this.notice = `The ${this.noun} was deleted.`;
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
        <button type="button" class="new" aria-expanded=${this.creating ? 'true' : 'false'} @click=${this.toggleCreate}>New ${this.noun}</button>
      </div>
      ${this.creating ? html`<div class="create">${this.createForm(this.api)}</div>` : nothing}
      ${items.length === 0 ? html`<p class="empty">${this.emptyText}</p>` : this.table(items)}
      <p class="visually-hidden" role="status">${this.notice}</p>
    </section>`;
  }

  /** The Edit button of a row. */
  protected editButton(v: ObjectView, label: string) {
    const open = this.openId === v.id;
    return html`<button type="button" class="edit" aria-expanded=${open ? 'true' : 'false'} aria-controls=${open ? `edit-${v.id}` : nothing} aria-label=${`Edit ${label}`} @click=${() => this.toggle(v.id)}>
      Edit
    </button>`;
  }

  /** The row under an open object's row, holding its editor. */
  protected editorRow(v: ObjectView, columns: number) {
    if (this.openId !== v.id) return nothing;
    return html`<tr class="editor-row" @keydown=${(e: KeyboardEvent) => this.onEditorKey(e, v.id)}>
      <td colspan=${columns} id=${`edit-${v.id}`}>${this.editorOf(v, this.api)}</td>
    </tr>`;
  }

  protected editor(): Focusable | null {
    return this.renderRoot.querySelector<Focusable>(this.editorTag);
  }

  private toggle(id: string) {
    if (this.openId === id) return this.close(id);
    this.openId = id;
    this.notice = '';
    this.focusNext = () => void this.editor()?.updateComplete.then(() => this.editor()?.focus());
  }

  protected close(id: string) {
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
    const form = () => this.renderRoot.querySelector<Focusable>(this.createTag);
    if (this.creating) this.focusNext = () => void form()?.updateComplete.then(() => form()?.focus());
  }

  protected cancelCreate() {
    this.creating = false;
    this.focusNext = () => this.renderRoot.querySelector<HTMLElement>('button.new')?.focus();
  }

  /** A new object arrived: open its editor. */
  protected created(e: CustomEvent<{ id: string }>) {
    this.creating = false;
    this.openId = e.detail.id;
    this.notice = '';
    this.focusNext = () =>
      void this.editor()?.updateComplete.then(() => {
        const ed = this.editor();
        if (ed) this.focusCreated(ed);
      });
  }
}
