// The rectangles: a card per object, coloured by application; its summary (a glance) and its detail
// (smaller type, more to read: meant for zoom ≥ DETAIL_K, where it is drawn 1.6 times larger or more).
import { css, unsafeCSS } from 'lit';
import { CARD_H, CARD_W } from './layout.ts';

export const rectStyles = css`
  .rect {
    position: absolute;
    left: 0;
    top: 0;
    width: ${unsafeCSS(CARD_W)}px;
    height: ${unsafeCSS(CARD_H)}px;
    contain: layout paint style;
    overflow: hidden;
    border-radius: 10px;
    background: var(--surface);
    border: 1px solid var(--border);
    border-left: 5px solid var(--app);
    box-shadow: 0 1px 3px rgba(0, 0, 0, 0.08);
    padding: 10px 12px 10px 12px;
    display: flex;
    flex-direction: column;
    gap: 4px;
    cursor: pointer;
    transition: transform 0.3s ease;
  }
  .rect:focus-visible,
  .rect.focused {
    outline: 3px solid var(--focus);
    outline-offset: 2px;
  }
  .rect.flash {
    animation: flash 1.6s ease-out;
  }
  .world[data-mode='overview'] .rect {
    background: color-mix(in srgb, var(--app) 55%, var(--surface));
    border-color: var(--app);
    box-shadow: none;
  }
  .head {
    display: flex;
    justify-content: space-between;
    align-items: baseline;
    gap: 8px;
    font-size: 11px;
    text-transform: uppercase;
    letter-spacing: 0.06em;
    color: var(--app);
    font-weight: 700;
  }
  .head .lead {
    color: var(--muted);
    font-variant-numeric: tabular-nums;
  }
  .title {
    font-size: 17px;
    font-weight: 650;
    line-height: 1.2;
    display: -webkit-box;
    -webkit-line-clamp: 2;
    -webkit-box-orient: vertical;
    overflow: hidden;
    overflow-wrap: anywhere;
  }
  .facts {
    font-size: 12px;
    color: var(--muted);
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .viz {
    margin-top: auto;
  }
  .tracks {
    display: grid;
    gap: 3px;
  }
  .track {
    height: 14px;
    border-radius: 3px;
    font-size: 9px;
    line-height: 14px;
    padding-left: 5px;
    color: #fff;
    background: var(--app);
    overflow: hidden;
    white-space: nowrap;
  }
  .track.audio {
    background: color-mix(in srgb, var(--app) 55%, #888);
  }
  .clips {
    display: flex;
    gap: 2px;
    height: 16px;
  }
  .clip {
    flex: 1 1 0;
    min-width: 2px;
    border-radius: 2px;
    background: var(--app);
  }
  .clip:nth-child(even) {
    background: color-mix(in srgb, var(--app) 60%, #fff);
  }
  .clip.missing {
    background: var(--border);
  }
  .channel {
    display: flex;
    flex-wrap: wrap;
    gap: 4px;
    align-items: center;
    max-height: 40px;
    overflow: hidden;
  }
  .pill {
    font-size: 10px;
    border-radius: 8px;
    padding: 1px 6px;
    background: color-mix(in srgb, var(--app) 18%, var(--surface));
    white-space: nowrap;
  }
  .live-dot {
    width: 9px;
    height: 9px;
    border-radius: 50%;
    background: #e0283c;
  }
  .big {
    font-size: 30px;
    font-weight: 700;
    color: var(--app);
    line-height: 1;
  }
  /* detail mode: the same box, smaller type, more to read */
  .world[data-mode='detail'] .rect {
    padding: 6px 8px;
    gap: 3px;
    cursor: auto;
    user-select: text;
    -webkit-user-select: text;
  }
  .world[data-mode='detail'] .head {
    font-size: 7px;
  }
  .world[data-mode='detail'] .title {
    font-size: 10.5px;
    line-height: 1.35;
    -webkit-line-clamp: 1;
    flex: none;
  }
  .body {
    font-size: 7px;
    min-height: 0;
    overflow: hidden;
  }
  .body .actions {
    display: flex;
    gap: 8px;
    align-items: baseline;
    margin-bottom: 3px;
  }
  .body a,
  .body button.link {
    font-size: 7.5px;
  }
  button.link {
    background: none;
    border: none;
    padding: 0;
    color: var(--link);
    text-decoration: underline;
    cursor: pointer;
    text-align: left;
  }
  button.link:disabled {
    color: var(--muted);
    text-decoration: none;
    cursor: default;
  }
  table.mini th,
  table.mini td {
    padding: 1px 3px;
    font-size: 6.5px;
    letter-spacing: 0;
    text-transform: none;
  }
  .items {
    margin: 0;
    padding-left: 12px;
  }
  .items li {
    margin: 1px 0;
  }
  .fields {
    display: grid;
    grid-template-columns: auto 1fr auto 1fr;
    gap: 0 5px;
    margin: auto 0 0;
    font-size: 6px;
    line-height: 1.4;
    flex: none;
    border-top: 1px solid var(--border);
    padding-top: 2px;
  }
  .fields dt {
    color: var(--muted);
  }
  .fields dd {
    margin: 0;
    font-family: var(--mono);
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  @media (prefers-reduced-motion: reduce) {
    .rect {
      transition: none;
    }
  }
`;
