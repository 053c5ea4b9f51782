// <stateos-channel-create>: a new channel: its name (what players tune to, checked before sending; whether it
// is free is the server's to say), title, mode and, optionally, a first playlist. Fires `created` ({id})
// once the channel has reached this page over WebRTC; Cancel or Escape fires `cancel`.
import { html, LitElement } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { CHANNEL, PLAYLIST } from '../../../shared/media/stu-types.ts';
import { ObjectsController } from '../controllers/objects-controller.ts';
import { objectKey } from '../core/describe.ts';
import type { ObjectsModel } from '../core/objects.ts';
import { shared } from '../styles/shared.ts';
import type { EditApi, NewChannel } from './api.ts';
import { EditAction } from './edit-action.ts';
import { channelNameProblem } from './input.ts';
import { editStyles } from './styles.ts';

@customElement('stateos-channel-create')
export class StateosChannelCreate extends LitElement {
  static override styles = [shared, editStyles];

  @property({ attribute: false }) model: ObjectsModel | undefined;
  @property({ attribute: false }) api!: EditApi;

  @state() private name = '';
  @state() private titleText = '';
  @state() private mode: 'live' | 'on-demand' = 'on-demand';
  @state() private playlist = '';
  @state() private nameProblem: string | undefined;
  @query('input.name') private nameInput!: HTMLInputElement | null;
  private readonly action = new EditAction(this, () => this.model);
  private readonly playlists = new ObjectsController(
    this,
    () => this.model,
    (keys) => [...keys].some((k) => k.startsWith(`${PLAYLIST}:`)),
  );

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('model')) this.playlists.reattach();
  }

  override focus(): void {
    this.nameInput?.focus();
  }

  override render() {
    const playlists = this.model?.byApp('playlists') ?? [];
    const value = (e: Event) => (e.target as HTMLInputElement | HTMLSelectElement).value;
    return html`<form @submit=${this.submit} @keydown=${this.onKey} aria-label="New channel">
        <label
          >Name (in its address)
          <input
            class="name"
            type="text"
            autocomplete="off"
            spellcheck="false"
            maxlength="64"
            size="16"
            placeholder="lobby"
            .value=${this.name}
            @input=${(e: Event) => (this.name = value(e))}
            aria-invalid=${this.nameProblem ? 'true' : 'false'}
            aria-describedby="name-hint"
        /></label>
        <label
          >Title
          <input type="text" autocomplete="off" maxlength="1024" size="20" placeholder="the name" .value=${this.titleText} @input=${(e: Event) => (this.titleText = value(e))}
        /></label>
        <label
          >Mode
          <select .value=${this.mode} @change=${(e: Event) => (this.mode = value(e) === 'live' ? 'live' : 'on-demand')}>
            <option value="on-demand" ?selected=${this.mode === 'on-demand'}>on demand</option>
            <option value="live" ?selected=${this.mode === 'live'}>live (starts now)</option>
          </select></label
        >
        <label
          >First playlist
          <select .value=${this.playlist} @change=${(e: Event) => (this.playlist = value(e))}>
            <option value="" ?selected=${this.playlist === ''}>none</option>
            ${playlists.map((p) => html`<option value=${p.id} ?selected=${this.playlist === p.id}>${p.title}</option>`)}
          </select></label
        >
        <button type="submit" class="primary" aria-disabled=${this.action.busy ? 'true' : 'false'}>Create channel</button>
        <button type="button" @click=${this.cancel}>Cancel</button>
        <p class=${this.nameProblem ? 'field-error' : 'hint wide'} id="name-hint">
          ${this.nameProblem ?? html`Name: a–z, 0–9, “-” and “_”; players open <code>/hls/channel/NAME/index.m3u8</code>.`}
        </p>
      </form>
      ${this.action.render()}`;
  }

  private async submit(e: Event) {
    e.preventDefault();
    if (this.action.busy) return;
    const name = this.name.trim();
    this.nameProblem = channelNameProblem(name);
    if (this.nameProblem) {
      this.nameInput?.focus();
      return;
    }
    const body: NewChannel = { name, mode: this.mode };
    if (this.titleText.trim()) body.title = this.titleText.trim();
    if (this.playlist) body.playlists = [this.playlist];
    const made = await this.action.run(
      { doing: `Creating the channel ${name}`, failed: `Could not create the channel ${name}` },
      () => this.api.createChannel(body),
      (answer, model) => model.get(objectKey({ id: answer.id, type: CHANNEL })) !== undefined,
    );
    if (made) {
      this.reset();
      this.dispatchEvent(new CustomEvent('created', { detail: { id: made.id } }));
    } else this.nameInput?.focus();
  }

  private reset() {
    this.name = '';
    this.titleText = '';
    this.mode = 'on-demand';
    this.playlist = '';
    this.nameProblem = undefined;
  }

  private cancel() {
    this.reset();
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
    'stateos-channel-create': StateosChannelCreate;
  }
}
