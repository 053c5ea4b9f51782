// The State API over a WebSocket from a page (or any runtime with a WHATWG WebSocket): the browser does the
// framing, this adapts it to a Channel (shared/stx/ws/channel.ts) and waits for the server's ApiHello, whose
// binding a credential's proof is made over. For pages that cannot (or need not) open WebRTC.
import { SignalingConnection } from '../stx/connection.ts';
import { err } from '../stx/errors.ts';
import { WS_SUBPROTOCOL, WsChannel } from '../stx/ws/channel.ts';
import { ApiClient, type ApiConnection, helloBinding } from './client.ts';

/** What is used of a WHATWG WebSocket. The handlers' events are `never` here (each handler below names what
 *  it reads) so that the DOM's own WebSocket, whose handlers take Event, MessageEvent and CloseEvent, fits. */
interface SocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly protocol: string;
  onopen: ((ev: never) => void) | null;
  onmessage: ((ev: never) => void) | null;
  onclose: ((ev: never) => void) | null;
  onerror: ((ev: never) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketCtor = new (url: string, protocols: string | string[]) => SocketLike;

/** Connects to the server at `url` (http(s)://HOST:PORT; ws(s)://HOST:PORT/api/ws is used). */
export async function connectApiBrowser(url: string, Ctor: WebSocketCtor = (globalThis as unknown as { WebSocket: WebSocketCtor }).WebSocket, timeoutMs = 10_000): Promise<ApiConnection> {
  const u = new URL('/api/ws', url);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new Ctor(u.href, WS_SUBPROTOCOL);
  ws.binaryType = 'arraybuffer';
  const channel = new WsChannel();
  let poll: ReturnType<typeof setTimeout> | undefined;
  // a browser has no drain event: while bytes are queued, look every 20 ms
  const watch = () => {
    if (poll !== undefined || channel.state === 'closed') return;
    poll = setTimeout(() => {
      poll = undefined;
      if (ws.bufferedAmount > channel.bufferedAmountLowThreshold) watch();
      else channel.drained();
    }, 20);
  };
  channel.attach({
    send: (bytes) => {
      ws.send(bytes);
      if (ws.bufferedAmount > 0) watch();
    },
    get buffered() {
      return ws.bufferedAmount;
    },
    close: (code, reason) => ws.close(code, reason),
  });
  // the socket and the server's ApiHello, both within timeoutMs; not waiting for onclose, which a browser
  // fires only once a server that has gone quiet answers its close (or after its own long timeout)
  let late = false;
  let giveUp: (e: Error) => void = () => undefined;
  const timer = setTimeout(() => {
    late = true;
    ws.close();
    channel.ended(`no ApiHello within ${timeoutMs} ms`);
    giveUp(err('TIMEOUT', `no WebSocket from ${u.href} within ${timeoutMs} ms`));
  }, timeoutMs);
  const opened = new Promise<void>((resolve, reject) => {
    giveUp = reject;
    ws.onopen = () => {
      if (ws.protocol !== WS_SUBPROTOCOL) {
        ws.close(1000, `the subprotocol ${WS_SUBPROTOCOL} is required`); // a page may send 1000 or 3000-4999 only
        reject(err('BAD_PARAM', `the server did not agree to ${WS_SUBPROTOCOL}`));
      } else resolve();
    };
    ws.onerror = () => undefined; // followed by close
    ws.onclose = (ev: { code: number; reason: string }) => {
      clearTimeout(timer);
      clearTimeout(poll);
      channel.ended(`closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
      reject(err('CLOSED', `the WebSocket to ${u.href} closed (${ev.code})`));
    };
  });
  ws.onmessage = (ev: { data: unknown }) => {
    if (ev.data instanceof ArrayBuffer) channel.deliver(new Uint8Array(ev.data));
    else channel.close(); // STX is binary: a text message is not from a server of ours
  };
  const conn = new SignalingConnection(channel);
  const binding = helloBinding(conn);
  try {
    await opened;
    return { client: new ApiClient(conn), binding: await binding, close: () => conn.close('done') };
  } catch (e) {
    conn.close('connect failed');
    throw late ? err('TIMEOUT', `no WebSocket with ApiHello from ${u.href} within ${timeoutMs} ms`) : e;
  } finally {
    clearTimeout(timer);
  }
}
