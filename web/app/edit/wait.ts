// What the editors wait for and say, without lit (tested in Node): a change reaching the page's model, and a
// failed request in words.
import type { ObjectsModel } from '../core/objects.ts';
import { ApiError } from './api.ts';

/** Resolves true once `ready()` holds (checked now and after each change of the model), false after `ms` or when `abort` fires. */
export function whenModel(model: ObjectsModel, ready: () => boolean, ms: number, abort: AbortSignal): Promise<boolean> {
  if (ready()) return Promise.resolve(true);
  if (abort.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (v: boolean) => {
      off();
      clearTimeout(timer);
      abort.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = () => done(false);
    const off = model.changed.on(() => {
      if (ready()) done(true);
    });
    const timer = setTimeout(() => done(false), ms);
    abort.addEventListener('abort', onAbort);
  });
}

export function describeError(e: unknown): string {
  if (e instanceof ApiError) return e.status ? `${e.message} (HTTP ${e.status}${e.code ? `, ${e.code}` : ''})` : e.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * After a change arrived: renders `host` with what the model now holds, then focuses the first of
 * `selectors` in it that exists and is not disabled.
 */
export async function settleFocus(host: { requestUpdate(): void; updateComplete: Promise<unknown>; renderRoot: HTMLElement | DocumentFragment }, ...selectors: string[]): Promise<void> {
  host.requestUpdate();
  await host.updateComplete;
  for (const sel of selectors) {
    const el = host.renderRoot.querySelector<HTMLElement>(sel);
    if (el && !(el as HTMLButtonElement).disabled) return el.focus();
  }
}
