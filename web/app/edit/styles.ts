// What the editors share beyond web/app/styles/shared.ts: forms laid out in rows, the status line and the
// error, the danger button, the confirmation.
import { css } from 'lit';

export const editStyles = css`
  :host {
    display: block;
  }
  form,
  .row {
    display: flex;
    flex-wrap: wrap;
    align-items: flex-end;
    gap: 8px 12px;
    margin: 0;
  }
  label {
    display: flex;
    flex-direction: column;
    gap: 2px;
    font-size: 12px;
    color: var(--muted);
  }
  label > input[type='text'],
  label > select {
    font: var(--font);
    color: var(--fg);
  }
  input[type='text'] {
    min-width: 0;
  }
  input.seconds {
    width: 7em;
  }
  select {
    font: inherit;
    color: inherit;
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: 6px;
    padding: 3px 6px;
    max-width: 22em;
  }
  input[aria-invalid='true'] {
    border-color: var(--bad);
    outline: 1px solid var(--bad);
  }
  button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: #fff;
  }
  button.primary:hover {
    filter: brightness(1.08);
    background: var(--accent);
  }
  button.danger {
    color: var(--bad);
    border-color: color-mix(in srgb, var(--bad) 45%, var(--border));
  }
  button.danger.primary {
    background: var(--bad);
    color: #fff;
  }
  button[aria-disabled='true'] {
    opacity: 0.55;
    cursor: progress;
  }
  button.small {
    padding: 1px 8px;
    font-size: 12px;
  }
  .status {
    margin: 6px 0 0;
    min-height: 1.45em;
    color: var(--muted);
    font-size: 13px;
  }
  .status:empty {
    min-height: 0;
    margin: 0;
  }
  .error {
    margin: 6px 0 0;
    padding: 6px 10px;
    border-radius: 6px;
    color: var(--bad);
    background: color-mix(in srgb, var(--bad) 9%, transparent);
    border: 1px solid color-mix(in srgb, var(--bad) 35%, transparent);
  }
  .field-error {
    flex-basis: 100%;
    margin: 0;
    color: var(--bad);
    font-size: 13px;
  }
  .hint {
    font-size: 12px;
    color: var(--muted);
  }
  .wide {
    flex-basis: 100%;
    margin: 0;
  }
  .spinner {
    display: inline-block;
    width: 10px;
    height: 10px;
    margin-right: 6px;
    border: 2px solid var(--accent);
    border-right-color: transparent;
    border-radius: 50%;
    animation: spin 0.8s linear infinite;
    vertical-align: -1px;
  }
  @keyframes spin {
    to {
      transform: rotate(360deg);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .spinner {
      animation: none;
    }
  }
  .confirm {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 8px;
    padding: 6px 10px;
    border-radius: 6px;
    border: 1px solid color-mix(in srgb, var(--bad) 35%, var(--border));
    background: color-mix(in srgb, var(--bad) 6%, transparent);
  }
  .confirm p {
    margin: 0;
  }
  h3 {
    font-size: 13px;
    margin: 12px 0 6px;
    color: var(--muted);
    text-transform: uppercase;
    letter-spacing: 0.04em;
  }
`;
