// What a rectangle shows, per application. Summary: a glance (not interactive): kind, title, a few facts
// and a small picture of the object (a media's tracks, a playlist's clips to scale, a channel's mode). Detail:
// the object's fields, interactive (play a media, go to a clip's media or a channel's playlist).
import { html, nothing, type TemplateResult } from 'lit';
import type { ObjectView } from '../core/describe.ts';
import { codecName, formatBytes, formatDuration, formatMs, formatTime, plural } from '../core/format.ts';
import { hrefFor, type Route } from '../shell/router.ts';

export interface DetailContext {
  route: Route;
  /** Moves the camera to another object (a clip's media, a channel's playlist). */
  focus(id: string): void;
}

// ------------------------------------------------------------------------------------------- summary

export function summaryView(v: ObjectView): TemplateResult {
  return html`<div class="head"><span class="kind">${v.kind}</span><span class="lead">${lead(v)}</span></div>
    <div class="title">${v.title}</div>
    <div class="facts">${facts(v)}</div>
    <div class="viz">${picture(v)}</div>`;
}

function lead(v: ObjectView): string {
  if (v.media) return formatDuration(v.media.duration);
  if (v.playlist) return v.playlist.durationMs === undefined ? '' : formatMs(v.playlist.durationMs);
  if (v.channel) return v.channel.mode === 'live' ? 'LIVE' : 'on demand';
  if (v.usage) return plural(v.usage.plays, 'play');
  return '';
}

function facts(v: ObjectView): string {
  // the glance without what the head already says
  const head = lead(v).toLowerCase();
  return v.glance.filter((g) => g.toLowerCase() !== head).join(' · ');
}

function picture(v: ObjectView): TemplateResult | typeof nothing {
  if (v.media) {
    return html`<div class="tracks">
      ${v.media.tracks.slice(0, 4).map((t) => html`<div class="track ${t.kind}"><span>${t.kind} ${codecName(t.codec)}</span></div>`)}
    </div>`;
  }
  if (v.playlist) {
    const clips = v.playlist.clips.slice(0, 60);
    const known = clips.every((c) => c.durationMs !== undefined && c.durationMs > 0);
    return html`<div class="clips" aria-hidden="true">
      ${clips.map((c) => html`<span class="clip ${c.missing ? 'missing' : ''}" style="flex-grow:${known ? c.durationMs! : 1}"></span>`)}
    </div>`;
  }
  if (v.channel) {
    return html`<div class="channel">
      ${v.channel.mode === 'live' ? html`<span class="live-dot"></span>` : nothing}
      ${v.channel.playlists.slice(0, 6).map((p) => html`<span class="pill">${p.title ?? p.id.slice(0, 8)}</span>`)}
    </div>`;
  }
  if (v.usage) return html`<div class="big">${v.usage.plays.toLocaleString()}</div>`;
  return nothing;
}

// -------------------------------------------------------------------------------------------- detail

export function detailView(v: ObjectView, ctx: DetailContext): TemplateResult {
  return html`<div class="head"><span class="kind">${v.kind}</span><span class="lead">${lead(v)}</span></div>
    <div class="title">${v.title}</div>
    <div class="body">${specific(v, ctx)}</div>
    <dl class="fields">${v.fields.map((f) => html`<dt>${f.label}</dt><dd title=${f.value}>${f.value}</dd>`)}</dl>`;
}

function specific(v: ObjectView, ctx: DetailContext): TemplateResult | typeof nothing {
  if (v.media) {
    const m = v.media;
    return html`<div class="actions">
        <a data-nav="1" href=${hrefFor(ctx.route.view, ctx.route, { play: v.id, focus: v.id })}>▶ Play</a>
        <a href=${`/hls/media/${v.id}/index.m3u8`}>HLS</a>
        <span class="muted">${m.container ?? ''} · ${formatBytes(m.size)}</span>
      </div>
      <table class="mini">
        <thead><tr><th>#</th><th>track</th><th>codec</th><th>format</th><th class="num">frames</th></tr></thead>
        <tbody>
          ${m.tracks.map(
            (t) => html`<tr><td>${t.index}</td><td>${t.kind}${t.language ? ` (${t.language})` : ''}</td><td title=${t.codec}>${codecName(t.codec)}</td><td>${t.format || '–'}</td><td class="num">${t.frames?.toLocaleString() ?? '–'}</td></tr>`,
          )}
        </tbody>
      </table>`;
  }
  if (v.playlist) {
    const clips = v.playlist.clips;
    return html`<ol class="items" aria-label="clips">
      ${clips.slice(0, 8).map(
        (c) => html`<li>
          <button type="button" class="link" ?disabled=${c.missing} @click=${() => ctx.focus(c.media)} title=${c.missing ? 'this media is not known here' : `go to ${c.title}`}>${c.title}</button>
          <span class="muted">${formatMs(c.startMs)}–${c.endMs === undefined ? 'end' : formatMs(c.endMs)}</span>
        </li>`,
      )}
      ${clips.length > 8 ? html`<li class="muted">and ${clips.length - 8} more</li>` : nothing}
    </ol>`;
  }
  if (v.channel) {
    const c = v.channel;
    return html`<div class="actions">
        ${c.name ? html`<a href=${`/hls/channel/${encodeURIComponent(c.name)}/index.m3u8`}>HLS /${c.name}</a>` : nothing}
        <span class="muted">${c.mode}${c.startMs !== undefined ? ` since ${formatTime(c.startMs)}` : ''}</span>
      </div>
      <ol class="items" aria-label="playlists">
        ${c.playlists.slice(0, 6).map(
          (p) => html`<li><button type="button" class="link" ?disabled=${!p.title} @click=${() => ctx.focus(p.id)}>${p.title ?? p.id.slice(0, 8)}</button></li>`,
        )}
      </ol>`;
  }
  if (v.usage) {
    const u = v.usage;
    return html`<table class="mini">
      <thead><tr><th>gateway</th><th class="num">plays</th><th class="num">played</th></tr></thead>
      <tbody>
        ${u.gateways.map((g) => html`<tr><td>${g.name}</td><td class="num">${g.plays.toLocaleString()}</td><td class="num">${formatMs(g.durationMs)}</td></tr>`)}
        <tr><td>all</td><td class="num">${u.plays.toLocaleString()}</td><td class="num">${formatMs(u.durationMs)}</td></tr>
      </tbody>
    </table>`;
  }
  return nothing;
}
