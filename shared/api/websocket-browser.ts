// The State API over a WebSocket from a page (or any runtime with a WHATWG WebSocket): the browser does the
// framing, this adapts it to a Channel (shared/stx/ws/channel.ts) and waits for the server's ApiHello, whose
// binding a credential's proof is made over. For pages that cannot (or need not) open WebRTC.
import { SignalingConnection } from '../stx/connection.ts';
import { err } from '../stx/errors.ts';
import { WS_SUBPROTOCOL, WsChannel } from '../stx/ws/channel.ts';
import { ApiClient, type ApiConnection, helloBinding } from './client.ts';

/** What is used of a WHATWG WebSocket. */
interface SocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly protocol: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
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
  const opened = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.close();
      reject(err('CLOSED', `no WebSocket from ${u.href} within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.onopen = () => {
      clearTimeout(timer);
      if (ws.protocol !== WS_SUBPROTOCOL) {
        ws.close(1002, 'subprotocol');
        reject(err('BAD_PARAM', `the server did not agree to ${WS_SUBPROTOCOL}`));
      } else resolve();
    };
    ws.onerror = () => undefined; // followed by close
    ws.onclose = (ev) => {
      clearTimeout(timer);
      clearTimeout(poll);
      channel.ended(`closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
      reject(err('CLOSED', `the WebSocket to ${u.href} closed (${ev.code})`));
    };
  });
  ws.onmessage = (ev) => {
    if (ev.data instanceof ArrayBuffer) channel.deliver(new Uint8Array(ev.data));
    else channel.close(); // STX is binary: a text message is not from a server of ours
  };
  const conn = new SignalingConnection(channel);
  const binding = helloBinding(conn);
  await opened;
  return { client: new ApiClient(conn), binding: await binding, close: () => conn.close('done') };
}
