// What the three lists share: the model they follow (only changes to their own application re-render them),
// the route their links keep, and the section around the table.
import { css, html, LitElement, type TemplateResult } from 'lit';
import { property } from 'lit/decorators.js';
import type { AppId, ObjectView } from '../core/describe.ts';
import type { ObjectsModel } from '../core/objects.ts';
import { ObjectsController } from '../controllers/objects-controller.ts';
import type { Route } from '../shell/router.ts';
import { appColors, shared } from '../styles/shared.ts';

export abstract class ObjectList extends LitElement {
  static override styles = [
    shared,
    appColors,
    css`
      :host {
        display: block;
      }
      section {
        background: var(--surface);
        border: 1px solid var(--border);
        border-top: 3px solid var(--app);
        border-radius: 8px;
        padding: 4px 0 8px;
      }
      h2 {
        font-size: 16px;
        margin: 10px 14px;
        display: flex;
        align-items: baseline;
        gap: 8px;
      }
      h2 .count {
        font-weight: 400;
        color: var(--muted);
        font-size: 13px;
      }
      .empty {
        margin: 4px 14px 10px;
        color: var(--muted);
      }
      .title {
        font-weight: 600;
      }
      .id {
        display: block;
        color: var(--muted);
        font-family: var(--mono);
        font-size: 11px;
      }
      .actions {
        white-space: nowrap;
        text-align: right;
      }
      .actions a {
        margin-left: 10px;
      }
      .chip {
        display: inline-block;
        border: 1px solid var(--border);
        border-radius: 10px;
        padding: 0 7px;
        margin: 1px 4px 1px 0;
        font-size: 12px;
        background: var(--surface-2);
      }
      .missing {
        color: var(--warn);
      }
    `,
  ];

  /** The objects to list. */
  @property({ attribute: false }) model: ObjectsModel | undefined;
  /** The current route: links keep its ?server=. */
  @property({ attribute: false }) route: Route | undefined;

  protected abstract readonly app: AppId;
  protected abstract readonly heading: string;
  protected abstract readonly emptyText: TemplateResult | string;

  private readonly objects = new ObjectsController(
    this,
    () => this.model,
    (keys) => [...keys].some((k) => this.model?.get(k)?.app === this.app || !this.model?.get(k)),
  );

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('model')) this.objects.reattach();
  }

  protected abstract table(items: ObjectView[]): TemplateResult;

  protected flash(v: ObjectView): string {
    return this.model?.changedWithin(v.key, 1600) ? 'flash' : '';
  }

  override render() {
    const items = this.model?.byApp(this.app) ?? [];
    return html`<section class=${`app-${this.app}`} aria-labelledby="h">
      <h2 id="h">${this.heading} <span class="count">${items.length}</span></h2>
      ${items.length === 0 ? html`<p class="empty">${this.emptyText}</p>` : this.table(items)}
    </section>`;
  }
}
