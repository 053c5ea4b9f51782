// Debian's Firefox ESR for tests, driven over WebDriver BiDi directly: Playwright's own Firefox builds
// cannot be downloaded here and playwright-core cannot drive a stock Firefox. launchFirefox() starts
// `firefox-esr --headless` on a fresh profile whose user.js and permissions let WebRTC work on a
// loopback-only machine (docs/WEB.md, "Firefox"), reads the BiDi address from its stderr and opens a
// session; tabs evaluate functions (their results come back through JSON), record the page's errors
// (log.entryAdded) and take screenshots. close() kills the process group it started and removes the
// profile. The WebSocket client is our own, over node:http (Node 20 has WebSocket only behind
// --experimental-websocket, and the vitest workers do not get the flag).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const FIREFOX_PATH = process.env.STATEOS_FIREFOX ?? '/usr/bin/firefox-esr';

/**
 * The profile's prefs. WebRTC: Firefox gathers no loopback candidates unless told to (`ice.loopback`), and
 * hides host addresses behind mDNS names (`obfuscate_host_addresses`) that a Node peer cannot resolve.
 * Autoplay allowed, the storage-persistence prompt answered, and no first-run pages, telemetry, updates
 * or remote-settings fetches (the machine has no internet; they only make noise).
 */
export const FIREFOX_PREFS: Record<string, string | number | boolean> = {
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.default_address_only': false,
  'media.peerconnection.ice.no_host': false,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'dom.storageManager.prompt.testing': true,
  'dom.storageManager.prompt.testing.allow': true,
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.page': 0,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.aboutwelcome.enabled': false,
  'browser.newtabpage.enabled': false,
  'startup.homepage_welcome_url': 'about:blank',
  'app.update.disabledForTesting': true,
  'app.update.auto': false,
  'app.normandy.enabled': false,
  'app.shield.optoutstudies.enabled': false,
  'messaging-system.rsexperimentloader.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'extensions.update.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/remote-settings',
  'browser.ml.enable': false,
};

// ---------------------------------------------------------------------------------------------------------
// A WebSocket client (RFC 6455) good enough for a BiDi session on loopback: text messages, fragmentation,
// ping/pong, close.

class WsClient {
  private buf: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  onmessage: (text: string) => void = () => {};
  onclose: (why: string) => void = () => {};

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('close', () => this.onclose('socket closed'));
    socket.on('error', (e) => this.onclose(e.message));
  }

  static connect(url: string): Promise<WsClient> {
    const u = new URL(url);
    const key = randomBytes(16).toString('base64');
    return new Promise((resolve, reject) => {
      const req = request({
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' },
      });
      req.on('upgrade', (res, socket, head) => {
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        if (res.headers['sec-websocket-accept'] !== accept) {
          socket.destroy();
          return reject(new Error(`${url}: bad Sec-WebSocket-Accept`));
        }
        socket.setNoDelay(true);
        const ws = new WsClient(socket);
        if (head.length) ws.receive(head);
        resolve(ws);
      });
      req.on('response', (res) => reject(new Error(`${url}: HTTP ${res.statusCode} instead of a WebSocket upgrade`)));
      req.on('error', reject);
      req.end();
    });
  }

  send(text: string): void {
    this.frame(0x1, Buffer.from(text));
  }

  close(): void {
    try {
      this.frame(0x8, Buffer.from([0x03, 0xe8]));
    } catch {
      // already gone
    }
    this.socket.end();
    this.socket.destroy();
  }

  private frame(opcode: number, payload: Buffer): void {
    const n = payload.length;
    const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    if (n < 126) head[1] = 0x80 | n;
    else if (n < 65536) {
      head[1] = 0x80 | 126;
      head.writeUInt16BE(n, 2);
    } else {
      head[1] = 0x80 | 127;
      head.writeBigUInt64BE(BigInt(n), 2);
    }
    const mask = randomBytes(4);
    const masked = Buffer.alloc(n);
    for (let i = 0; i < n; i++) masked[i] = payload[i] ^ mask[i & 3];
    this.socket.write(Buffer.concat([head, mask, masked]));
  }

  private receive(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.buf.length < 2) return;
      const fin = (this.buf[0] & 0x80) !== 0;
      const opcode = this.buf[0] & 0x0f;
      const masked = (this.buf[1] & 0x80) !== 0;
      let n = this.buf[1] & 0x7f;
      let off = 2;
      if (n === 126) {
        if (this.buf.length < 4) return;
        n = this.buf.readUInt16BE(2);
        off = 4;
      } else if (n === 127) {
        if (this.buf.length < 10) return;
        n = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      const maskAt = off;
      if (masked) off += 4;
      if (this.buf.length < off + n) return;
      let payload = this.buf.subarray(off, off + n);
      if (masked) payload = Buffer.from(payload.map((b, i) => b ^ this.buf[maskAt + (i & 3)]));
      this.buf = this.buf.subarray(off + n);
      if (opcode === 0x9) this.frame(0xa, Buffer.from(payload));
      else if (opcode === 0x8) {
        this.socket.end();
        this.onclose('closed by Firefox');
      } else if (opcode === 0x1 || opcode === 0x2 || opcode === 0x0) {
        this.parts.push(Buffer.from(payload));
        if (fin) {
          const text = Buffer.concat(this.parts).toString('utf8');
          this.parts = [];
          this.onmessage(text);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// A minimal WebDriver BiDi client.

interface BidiEvent {
  method: string;
  params: Record<string, unknown>;
}

export class Bidi {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  private readonly listeners = new Set<(e: BidiEvent) => void>();
  private closed: string | undefined;

  constructor(private readonly ws: WsClient) {
    ws.onmessage = (text) => {
      const msg = JSON.parse(text) as { id?: number; type?: string; result?: unknown; error?: string; message?: string; method?: string; params?: Record<string, unknown> };
      if (msg.id !== undefined && this.pending.has(msg.id)) {
        const p = this.pending.get(msg.id)!;
        this.pending.delete(msg.id);
        if (msg.type === 'error') p.reject(new Error(`BiDi ${p.method}: ${msg.error}: ${msg.message}`));
        else p.resolve(msg.result);
      } else if (msg.type === 'event' && msg.method) {
        for (const l of this.listeners) l({ method: msg.method, params: msg.params ?? {} });
      }
    };
    ws.onclose = (why) => {
      this.closed = why;
      for (const p of this.pending.values()) p.reject(new Error(`BiDi ${p.method}: connection ${why}`));
      this.pending.clear();
    };
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`BiDi ${method}: connection ${this.closed}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  on(listener: (e: BidiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.ws.close();
  }
}

// ---------------------------------------------------------------------------------------------------------

export interface FirefoxTab {
  /** The BiDi browsing context id. */
  context: string;
  /** The page's uncaught errors and console errors, in order. */
  errors: string[];
  /** Navigates and waits for the load event. */
  goto(url: string): Promise<void>;
  /** Runs `fn(arg)` in the page (awaited); the result comes back through JSON.stringify. */
  evaluate<T, A = undefined>(fn: (arg: A) => T | Promise<T>, arg?: A): Promise<Awaited<T>>;
  /** Polls `fn` every `intervalMs` until it returns something truthy; returns that value. */
  waitFor<T>(fn: () => T | Promise<T>, opts?: { timeoutMs?: number; intervalMs?: number; what?: string }): Promise<Awaited<T>>;
  /** Saves a PNG of the viewport to `path` (its folder is created). */
  screenshot(path: string): Promise<string>;
  close(): Promise<void>;
}

export interface Firefox {
  version: string;
  pid: number;
  bidi: Bidi;
  /** A new tab, `width`×`height` (default 1280×860). */
  newTab(opts?: { width?: number; height?: number }): Promise<FirefoxTab>;
  /** Firefox's stderr so far (for failure messages). */
  stderr(): string;
  close(): Promise<void>;
}

const userJs = (prefs: Record<string, string | number | boolean>) =>
  Object.entries(prefs)
    .map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`)
    .join('\n') + '\n';

/** Starts headless Firefox ESR with a fresh profile and opens a BiDi session on it. */
export async function launchFirefox(opts: { prefs?: Record<string, string | number | boolean>; webrtcOrigins?: string[]; timeoutMs?: number } = {}): Promise<Firefox> {
  if (!existsSync(FIREFOX_PATH)) {
    throw new Error(`Firefox is not installed at ${FIREFOX_PATH}: run \`bash scripts/system-deps.sh\` as root (it installs firefox-esr from Debian), or set STATEOS_FIREFOX`);
  }
  // Camera and microphone for these origins (no device is opened): without them Firefox gathers candidates on
  // the default route's addresses only, which is none on a machine with loopback alone.
  const perms = (opts.webrtcOrigins ?? []).flatMap((o) => ['camera', 'microphone'].map((type) => `origin\t${type}\t1\t${new URL(o).origin}`));
  const profile = await mkdtemp(join(tmpdir(), 'stateos-firefox-'));
  try {
    const prefs = { ...FIREFOX_PREFS, ...opts.prefs };
    if (perms.length) {
      await writeFile(join(profile, 'permissions.txt'), `${perms.join('\n')}\n`);
      prefs['permissions.manager.defaultsUrl'] = pathToFileURL(join(profile, 'permissions.txt')).href;
    }
    await writeFile(join(profile, 'user.js'), userJs(prefs));
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw e;
  }
  const proc: ChildProcess = spawn(FIREFOX_PATH, ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // its own process group, so close() ends the content processes with it
    detached: true,
    env: { ...process.env, MOZ_HEADLESS: '1', MOZ_CRASHREPORTER_DISABLE: '1', MOZ_DISABLE_AUTO_SAFE_MODE: '1' },
  });
  let stderr = '';
  const kill = async () => {
    if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((r) => proc.once('exit', r));
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        proc.kill('SIGKILL');
      }
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    }
    await rm(profile, { recursive: true, force: true });
  };
  let bidi: Bidi;
  try {
    const wsUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Firefox did not start WebDriver BiDi in ${opts.timeoutMs ?? 30_000} ms: ${stderr}`)), opts.timeoutMs ?? 30_000);
      proc.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      proc.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Firefox exited (${code ?? signal}) before WebDriver BiDi started: ${stderr}`));
      });
    });
    bidi = new Bidi(await WsClient.connect(`${wsUrl}/session`));
  } catch (e) {
    await kill();
    throw e;
  }
  let version = '';
  try {
    const s = await bidi.send<{ capabilities: { browserVersion: string } }>('session.new', { capabilities: { alwaysMatch: { acceptInsecureCerts: true, unhandledPromptBehavior: { default: 'ignore' } } } });
    version = s.capabilities.browserVersion;
    await bidi.send('session.subscribe', { events: ['log.entryAdded'] });
  } catch (e) {
    bidi.close();
    await kill();
    throw e;
  }

  const errorsOf = new Map<string, string[]>();
  bidi.on((e) => {
    if (e.method !== 'log.entryAdded') return;
    const p = e.params as { type: string; level: string; text: string | null; source: { context?: string }; stackTrace?: { callFrames: { url: string; lineNumber: number }[] } };
    if (p.level !== 'error') return;
    const at = p.stackTrace?.callFrames[0];
    const line = `${p.type === 'javascript' ? 'pageerror' : 'console.error'}: ${p.text}${at ? ` (${at.url}:${at.lineNumber + 1})` : ''}`;
    errorsOf.get(p.source.context ?? '')?.push(line);
  });

  const newTab = async (o: { width?: number; height?: number } = {}): Promise<FirefoxTab> => {
    const { context } = await bidi.send<{ context: string }>('browsingContext.create', { type: 'tab' });
    await bidi.send('browsingContext.setViewport', { context, viewport: { width: o.width ?? 1280, height: o.height ?? 860 } });
    const errors: string[] = [];
    errorsOf.set(context, errors);
    const evaluate = async <T, A>(fn: (arg: A) => T | Promise<T>, arg?: A): Promise<Awaited<T>> => {
      // __name: what esbuild's keepNames (tsx, vitest) wraps named functions in; the page has no such helper.
      const expression = `(async () => { const __name = (f) => f; return JSON.stringify(await (${fn.toString()})(${arg === undefined ? '' : JSON.stringify(arg)})); })()`;
      const r = await bidi.send<{ type: string; result?: { type: string; value?: string }; exceptionDetails?: { text: string } }>('script.evaluate', {
        expression,
        target: { context },
        awaitPromise: true,
        resultOwnership: 'none',
      });
      if (r.type === 'exception') throw new Error(`in Firefox: ${r.exceptionDetails?.text}`);
      return (r.result?.type === 'string' ? JSON.parse(r.result.value!) : undefined) as Awaited<T>;
    };
    return {
      context,
      errors,
      async goto(url) {
        await bidi.send('browsingContext.navigate', { context, url, wait: 'complete' });
      },
      evaluate,
      async waitFor<T>(fn: () => T | Promise<T>, w: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<Awaited<T>> {
        const end = Date.now() + (w.timeoutMs ?? 15_000);
        let last: unknown;
        for (;;) {
          try {
            last = await evaluate(fn);
            if (last) return last as Awaited<T>;
          } catch (e) {
            last = e;
          }
          if (Date.now() > end) throw new Error(`Firefox: timed out waiting for ${w.what ?? fn.toString()} (last: ${last instanceof Error ? last.message : JSON.stringify(last)}); page errors: ${JSON.stringify(errors)}`);
          await new Promise((r) => setTimeout(r, w.intervalMs ?? 200));
        }
      },
      async screenshot(path) {
        const { data } = await bidi.send<{ data: string }>('browsingContext.captureScreenshot', { context });
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, Buffer.from(data, 'base64'));
        return path;
      },
      async close() {
        errorsOf.delete(context);
        await bidi.send('browsingContext.close', { context });
      },
    };
  };

  return {
    version,
    pid: proc.pid!,
    bidi,
    newTab,
    stderr: () => stderr,
    async close() {
      try {
        await Promise.race([bidi.send('session.end'), new Promise((r) => setTimeout(r, 1000))]).catch(() => {});
        bidi.close();
      } finally {
        await kill();
      }
    },
  };
}
