// The InstaVid360 Image API dialect (seed 000): envelope answers, imagekeys, LPA and background-replacement
// tasks, callbacks. Its routes check their own scopes (image:upload, task:lpa, task:bg-replace, task:read).
import type { Dialect, DialectContext } from '../dialect.ts';
import { mountRoutes } from '../dialect.ts';
import type { CompletionNotifier } from '../../tasks/notifier.ts';
import { DIALECT_NAME, ROUTES } from './routes.ts';
import { failure, ok } from './envelope.ts';
import { presentStatus } from './present.ts';

export interface InstavidOptions {
  /** Base URL of result links in callbacks. */
  baseUrl: () => string;
}

export function instavidDialect(opts: InstavidOptions): Dialect {
  let mounted: DialectContext | null = null;
  const notifier: CompletionNotifier = {
    async request(task, event) {
      if (event !== 'finished' || !task.webhook || !mounted?.images) return null;
      // The task key is stored just after the task is accepted: a task that ends at once may be ahead of it.
      let keyed = await mounted.images.taskById(task.id);
      for (let i = 0; !keyed && i < 20; i++) {
        await new Promise((r) => setTimeout(r, 100));
        keyed = await mounted.images.taskById(task.id);
      }
      if (!keyed) return null;
      const body = ok(await presentStatus(mounted.images, task, keyed, mounted.apiEndpoint ?? opts.baseUrl()));
      return { url: task.webhook.url, headers: {}, contentType: 'application/json', body: JSON.stringify(body) };
    },
  };
  return {
    name: DIALECT_NAME,
    scope: null,
    mount(router, ctx) {
      mounted = ctx;
      mountRoutes(router, ctx, ROUTES);
    },
    notifier,
    openapi: () => null,
    errorBody: failure,
  };
}
