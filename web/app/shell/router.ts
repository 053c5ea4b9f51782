// The app's addresses: a path per view, and two query parameters that work on any view: ?play=ID opens
// the player on a media (a link people share), ?focus=ID centres the canvas on an object. The Node state
// server answers index.html for every such path (node-peer/http/static.ts), so they can be bookmarked.
import { Emitter } from '../../../shared/util/emitter.ts';

export const VIEWS = [
  { id: 'objects', path: '/', label: 'Objects', title: 'Media, playlists and channels' },
  { id: 'canvas', path: '/canvas', label: 'Canvas', title: 'State UI canvas' },
  { id: 'system', path: '/system', label: 'System', title: 'Peers and rings' },
  { id: 'demo', path: '/demo', label: 'Demo', title: 'The in-tab demo' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'] | 'missing';

export interface Route {
  view: ViewId;
  /** ?play=: the media to play. */
  play: string | undefined;
  /** ?focus=: the object the canvas centres on. */
  focus: string | undefined;
  /** ?server=: a server other than the one that served the page. */
  server: string | undefined;
}

export function parseRoute(pathname: string, search: string): Route {
  const q = new URLSearchParams(search);
  const path = pathname.replace(/\/index\.html$/, '/').replace(/(.)\/+$/, '$1');
  const view = VIEWS.find((v) => v.path === path)?.id ?? 'missing';
  return { view, play: q.get('play') ?? undefined, focus: q.get('focus') ?? undefined, server: q.get('server') ?? undefined };
}

/** The address of a view (keeping ?server= when the page has one), with optional play/focus. */
export function hrefFor(view: ViewId, current: Route, extra: { play?: string; focus?: string } = {}): string {
  const path = VIEWS.find((v) => v.id === view)?.path ?? '/';
  const q = new URLSearchParams();
  if (current.server) q.set('server', current.server);
  if (extra.play) q.set('play', extra.play);
  if (extra.focus) q.set('focus', extra.focus);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** History-API navigation: links with data-nav (or any same-origin app link) change the route without a reload. */
export class Router {
  readonly changed = new Emitter<Route>();
  route: Route;

  constructor(private readonly win: Window = window) {
    this.route = parseRoute(win.location.pathname, win.location.search);
  }

  start(): () => void {
    const onPop = () => this.update();
    this.win.addEventListener('popstate', onPop);
    return () => this.win.removeEventListener('popstate', onPop);
  }

  navigate(href: string, replace = false): void {
    const url = new URL(href, this.win.location.href);
    if (url.origin !== this.win.location.origin) {
      this.win.location.assign(url.href);
      return;
    }
    if (url.pathname + url.search === this.win.location.pathname + this.win.location.search) return;
    if (replace) this.win.history.replaceState(null, '', url.pathname + url.search);
    else this.win.history.pushState(null, '', url.pathname + url.search);
    this.update();
  }

  /** A click handler for the app's links: plain clicks stay in the page, modified ones (new tab) do not. */
  readonly onClick = (e: MouseEvent): void => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement);
    if (!a || a.target || a.hasAttribute('download') || !a.dataset.nav) return;
    e.preventDefault();
    this.navigate(a.href);
  };

  private update(): void {
    this.route = parseRoute(this.win.location.pathname, this.win.location.search);
    this.changed.emit(this.route);
  }
}
