// The Celantur Container REST API v1 dialect: routes under /v1, Celantur's parameter names, task JSON,
// download links, webhook body and OpenAPI document.
import type { Dialect } from '../dialect.ts';
import { mountRoutes } from '../dialect.ts';
import { DIALECT_NAME, ROUTES } from './routes.ts';
import { celanturNotifier } from './webhook.ts';
import { buildOpenApi } from './openapi.ts';

export interface CelanturOptions {
  /** Base URL for links in webhook bodies (--api-endpoint, or the server's own address). */
  baseUrl: () => string;
}

export function celanturDialect(opts: CelanturOptions): Dialect {
  return {
    name: DIALECT_NAME,
    mount: (router, ctx) => mountRoutes(router, ctx, ROUTES),
    notifier: celanturNotifier(opts.baseUrl),
    openapi: (ctx) => buildOpenApi(ctx, ctx.apiEndpoint ?? opts.baseUrl()),
  };
}
