// Who this tab is on the State API (docs/IDENTITY.md): anonymous until the user pastes a credential from
// `stateos token issue`; then a WebSocket to the server (shared/api/websocket-browser.ts) registered with
// the credential's proof. The credential stays in this tab's sessionStorage only (gone when the tab
// closes). Signed in, the editors write through the State API as that user (web/app/edit/state-api.ts);
// signed out, through the server's HTTP API as before.
import { type ApiClient, type ApiConnection } from '../../../shared/api/client.ts';
import { connectApiBrowser } from '../../../shared/api/websocket-browser.ts';
import { Emitter } from '../../../shared/util/emitter.ts';

const KEY = 'stateos-credential';

export class Identity {
  readonly changes = new Emitter<void>();
  /** The signed-in user, once the server accepted the credential. */
  user: string | undefined;
  /** Why the last sign-in failed. */
  error: string | undefined;
  private conn: Promise<ApiConnection> | undefined;

  constructor(readonly server: string) {}

  get credential(): string | undefined {
    return sessionStorage.getItem(KEY) ?? undefined;
  }

  /** Registers with `credential`; kept for this tab when the server accepts it. Resolves with the user name. */
  async signIn(credential: string): Promise<string> {
    this.signOut();
    this.error = undefined;
    try {
      const conn = await this.open(credential.trim());
      sessionStorage.setItem(KEY, credential.trim());
      this.conn = Promise.resolve(conn);
      return this.user!;
    } catch (e) {
      this.error = (e as Error).message.replace(/^.*?UNAUTHENTICATED: /, '');
      this.changes.emit();
      throw e;
    }
  }

  signOut(): void {
    const had = this.credential !== undefined || this.user !== undefined;
    sessionStorage.removeItem(KEY);
    void this.conn?.then((c) => c.close()).catch(() => undefined);
    this.conn = undefined;
    this.user = undefined;
    if (had) this.changes.emit();
  }

  /** The client of the signed-in user (reconnected when the socket went away); undefined when signed out. */
  async client(): Promise<ApiClient | undefined> {
    const credential = this.credential;
    if (!credential) return undefined;
    let conn = this.conn ? await this.conn.catch(() => undefined) : undefined;
    if (!conn || conn.client.conn.isClosed) {
      this.conn = this.open(credential);
      conn = await this.conn;
    }
    return conn.client;
  }

  private async open(credential: string): Promise<ApiConnection> {
    const conn = await connectApiBrowser(this.server);
    try {
      const r = await conn.client.login(credential, conn.binding, { app: 'stateos web app' });
      this.user = r.user;
      this.changes.emit();
      return conn;
    } catch (e) {
      conn.close();
      throw e;
    }
  }
}

const identities = new Map<string, Identity>();

/** The identity of this tab on `server` (one per server). */
export function identityFor(server: string): Identity {
  let i = identities.get(server);
  if (!i) identities.set(server, (i = new Identity(server)));
  return i;
}
