// Signing in, in the header (docs/IDENTITY.md): "Sign in" opens a field for a credential from `stateos
// token issue` (a password field: it is a secret); the server checks it over the State API and the header
// then says who this tab is, with "Sign out". No password is ever typed: the credential is issued by the
// installation's administrator. A refusal is said as an alert, with the server's reason.
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { identityFor, type Identity } from '../core/identity.ts';
import { shared } from '../styles/shared.ts';

@customElement('stateos-sign-in')
export class StateosSignIn extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: inline-flex;
        align-items: center;
        gap: 8px;
      }
      form {
        display: inline-flex;
        gap: 6px;
        align-items: center;
      }
      input {
        width: 16em;
      }
      .who {
        font-weight: 600;
      }
      .error {
        color: var(--bad);
        max-width: 28em;
      }
    `,
  ];

  /** The server's URL (its State API). */
  @property() server = '';
  @state() private open = false;
  @state() private busy = false;
  private identity: Identity | undefined;
  private off: (() => void) | undefined;

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('server') && this.server) {
      this.off?.();
      this.identity = identityFor(this.server);
      this.off = this.identity.changes.on(() => this.requestUpdate());
      // a credential kept from earlier in this tab: sign in again with it
      const kept = this.identity.credential;
      if (kept && !this.identity.user) void this.identity.signIn(kept).catch(() => undefined);
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('input');
    if (!input?.value.trim() || !this.identity) return;
    this.busy = true;
    try {
      await this.identity.signIn(input.value);
      this.open = false;
    } catch {
      input.select();
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const id = this.identity;
    if (!id) return nothing;
    if (id.user) {
      return html`<span>signed in as <span class="who">${id.user}</span></span>
        <button type="button" @click=${() => id.signOut()}>Sign out</button>`;
    }
    if (!this.open) return html`<button type="button" @click=${() => (this.open = true)}>Sign in</button>`;
    return html`<form @submit=${(e: Event) => this.submit(e)}>
        <input type="password" autocomplete="off" aria-label="Credential (from stateos token issue)" placeholder="credential" ?disabled=${this.busy} />
        <button type="submit" ?disabled=${this.busy}>Sign in</button>
        <button type="button" @click=${() => (this.open = false)}>Cancel</button>
      </form>
      ${id.error ? html`<span class="error" role="alert">${id.error}</span>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-sign-in': StateosSignIn;
  }
}
