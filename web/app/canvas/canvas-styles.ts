// The canvas's frame: the viewport (the dotted background moves with the camera), the world layer, the
// application groups and their labels, the overview's 2D canvas, the help line.
import { css } from 'lit';

export const canvasStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    min-height: 0;
    height: 100%;
  }
  .viewport {
    position: relative;
    flex: 1;
    min-height: 240px;
    overflow: hidden;
    background-color: var(--canvas-bg);
    background-image: radial-gradient(circle, var(--grid) 1.5px, transparent 1.6px);
    touch-action: none;
    cursor: grab;
    user-select: none;
    -webkit-user-select: none;
  }
  .viewport:focus-visible {
    outline: 2px solid var(--focus);
    outline-offset: -2px;
  }
  .viewport.moving {
    cursor: grabbing;
  }
  .world {
    position: absolute;
    left: 0;
    top: 0;
    transform-origin: 0 0;
  }
  .group {
    position: absolute;
    left: 0;
    top: 0;
    border-radius: 18px;
    background: color-mix(in srgb, var(--app) 7%, transparent);
    border: 2px solid color-mix(in srgb, var(--app) 22%, transparent);
  }
  .labels,
  canvas.overview {
    position: absolute;
    inset: 0;
    pointer-events: none;
    overflow: hidden;
  }
  canvas.overview {
    width: 100%;
    height: 100%;
  }
  .glabel {
    position: absolute;
    left: 0;
    top: 0;
    font-weight: 700;
    font-size: 15px;
    color: var(--app);
    white-space: nowrap;
    text-shadow: 0 0 4px var(--canvas-bg);
  }
  .glabel .n {
    font-weight: 400;
    color: var(--muted);
    margin-left: 4px;
  }
  .empty {
    position: absolute;
    inset: 0;
    display: grid;
    place-items: center;
    color: var(--muted);
    pointer-events: none;
  }
  .help {
    margin: 0;
    padding: 4px 12px;
    font-size: 12px;
    color: var(--muted);
    background: var(--surface);
    border-top: 1px solid var(--border);
  }
  kbd {
    font-family: var(--mono);
    font-size: 11px;
    border: 1px solid var(--border);
    border-radius: 3px;
    padding: 0 3px;
    background: var(--surface-2);
  }
`;
