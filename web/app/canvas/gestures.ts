// Mouse, touch and pen on the canvas, as pan and zoom: a drag pans (after a few pixels, so a click is still
// a click), the wheel zooms about the pointer (a trackpad pinch arrives as a wheel event with ctrlKey), two
// pointers pinch-zoom about their midpoint and pan with it. Coordinates are relative to the element.
// Listeners are added in attach() and all removed by the function it returns.

export interface GestureHandlers {
  pan(dx: number, dy: number): void;
  zoom(factor: number, x: number, y: number, pinch: boolean): void;
  /** A gesture begins (pan or pinch) or ends: the canvas can simplify drawing while it moves. */
  moving(active: boolean): void;
}

const DRAG_THRESHOLD = 4;

export function attachGestures(el: HTMLElement, h: GestureHandlers, wheelFactor: (deltaY: number, deltaMode: number, pinch: boolean) => number): () => void {
  const pointers = new Map<number, { x: number; y: number }>();
  let dragging = false;
  let suppressClick = false;
  let start: { x: number; y: number } | undefined;
  let pinch: { d: number; mx: number; my: number } | undefined;

  const local = (e: { clientX: number; clientY: number }) => {
    const r = el.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const pinchState = () => {
    const [a, b] = [...pointers.values()];
    return { d: Math.hypot(a.x - b.x, a.y - b.y), mx: (a.x + b.x) / 2, my: (a.y + b.y) / 2 };
  };

  const down = (e: PointerEvent) => {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    const p = local(e);
    pointers.set(e.pointerId, p);
    if (pointers.size === 1) {
      start = p;
      dragging = false;
    } else if (pointers.size === 2) {
      pinch = pinchState();
      if (!dragging) h.moving(true);
      dragging = true;
      for (const id of pointers.keys()) if (!el.hasPointerCapture(id)) capture(id);
    }
  };
  const capture = (id: number) => {
    try {
      el.setPointerCapture(id);
    } catch {
      // the pointer is already gone (a synthetic event in a test, a touch that ended): nothing to capture
    }
  };
  const move = (e: PointerEvent) => {
    const prev = pointers.get(e.pointerId);
    if (!prev) return;
    const p = local(e);
    pointers.set(e.pointerId, p);
    if (pointers.size >= 2 && pinch) {
      const now = pinchState();
      if (pinch.d > 0 && now.d > 0) h.zoom(now.d / pinch.d, now.mx, now.my, true);
      h.pan(now.mx - pinch.mx, now.my - pinch.my);
      pinch = now;
      return;
    }
    if (!dragging && start && Math.hypot(p.x - start.x, p.y - start.y) < DRAG_THRESHOLD) return;
    if (!dragging) {
      dragging = true;
      capture(e.pointerId);
      h.moving(true);
      h.pan(p.x - (start?.x ?? p.x), p.y - (start?.y ?? p.y));
      return;
    }
    h.pan(p.x - prev.x, p.y - prev.y);
  };
  const up = (e: PointerEvent) => {
    if (!pointers.delete(e.pointerId)) return;
    if (pointers.size < 2) pinch = undefined;
    if (pointers.size === 1) {
      // one finger left after a pinch: it goes on panning from where it is
      start = [...pointers.values()][0];
      return;
    }
    if (pointers.size === 0) {
      if (dragging) {
        suppressClick = true;
        h.moving(false);
      }
      dragging = false;
      start = undefined;
    }
  };
  const click = (e: MouseEvent) => {
    if (!suppressClick) return;
    // the click that ends a drag is not a click on what is under the pointer
    suppressClick = false;
    e.preventDefault();
    e.stopPropagation();
  };
  let wheelTimer: ReturnType<typeof setTimeout> | undefined;
  const wheel = (e: WheelEvent) => {
    e.preventDefault();
    const p = local(e);
    if (e.shiftKey && !e.ctrlKey) {
      // shift+wheel pans sideways, as in most canvases
      h.pan(-(e.deltaY || e.deltaX), 0);
    } else {
      h.zoom(wheelFactor(e.deltaY, e.deltaMode, e.ctrlKey), p.x, p.y, e.ctrlKey);
    }
    if (wheelTimer === undefined) h.moving(true);
    clearTimeout(wheelTimer);
    wheelTimer = setTimeout(() => {
      wheelTimer = undefined;
      h.moving(false);
    }, 160);
  };

  el.addEventListener('pointerdown', down);
  el.addEventListener('pointermove', move);
  el.addEventListener('pointerup', up);
  el.addEventListener('pointercancel', up);
  el.addEventListener('click', click, true);
  el.addEventListener('wheel', wheel, { passive: false });
  return () => {
    el.removeEventListener('pointerdown', down);
    el.removeEventListener('pointermove', move);
    el.removeEventListener('pointerup', up);
    el.removeEventListener('pointercancel', up);
    el.removeEventListener('click', click, true);
    el.removeEventListener('wheel', wheel);
    clearTimeout(wheelTimer);
  };
}
