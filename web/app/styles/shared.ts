// Styles every component shares (its shadow root adopts them): the palette comes from CSS custom
// properties set on the page (web/app/styles/theme.css), so light and dark follow the system.
import { css } from 'lit';

export const shared = css`
  :host {
    color: var(--fg);
    font: var(--font);
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  a {
    color: var(--link);
  }
  a:focus-visible,
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  [tabindex]:focus-visible {
    outline: 2px solid var(--focus);
    outline-offset: 2px;
  }
  button {
    font: inherit;
    color: inherit;
    background: var(--surface-2);
    border: 1px solid var(--border);
    border-radius: 6px;
    padding: 3px 10px;
    cursor: pointer;
  }
  button:hover {
    background: var(--surface-3);
  }
  button[aria-pressed='true'] {
    background: var(--accent-soft);
    border-color: var(--accent);
  }
  input[type='search'],
  input[type='text'] {
    font: inherit;
    color: inherit;
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: 6px;
    padding: 3px 8px;
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  th,
  td {
    text-align: left;
    padding: 6px 10px;
    border-bottom: 1px solid var(--border);
    vertical-align: top;
  }
  th {
    font-weight: 600;
    color: var(--muted);
    font-size: 12px;
    text-transform: uppercase;
    letter-spacing: 0.04em;
  }
  td.num,
  th.num {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
  code,
  .mono {
    font-family: var(--mono);
    font-size: 0.92em;
  }
  .muted {
    color: var(--muted);
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
  .flash {
    animation: flash 1.6s ease-out;
  }
  @keyframes flash {
    from {
      background-color: var(--flash);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .flash {
      animation: none;
    }
  }
`;

/** The colour of each application's rectangles, chips and rows. */
export const appColors = css`
  .app-media {
    --app: var(--media);
  }
  .app-playlists {
    --app: var(--playlists);
  }
  .app-channels {
    --app: var(--channels);
  }
  .app-usage {
    --app: var(--usage);
  }
  .app-other {
    --app: var(--other);
  }
`;
