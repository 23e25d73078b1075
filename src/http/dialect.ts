// The seam between the shared HTTP server and the API dialects it speaks (src/http/<dialect>/).
// A dialect owns its routes, parameter names, response shapes, OpenAPI document and webhook body; the shared
// part (src/http/*.ts) owns the express app, authentication, upload reception and the error mapping.
//
// Adding a dialect: a folder src/http/<name>/ whose index.ts returns a Dialect; list it in
// defaultDialects() (src/server.ts); pass `dialect: <name>` to TaskService.accept so that its tasks are
// notified through its notifier. test/http/dialect-seam.test.ts mounts a second dialect next to Celantur's.
// A dialect whose clients send the API key elsewhere than "Authorization: Bearer"/"x-api-key" (PEKAT's
// ?api_key=) describes that in `auth`; src/http/maskit/ and src/http/pekat/ are two more examples.
import type { Request, Response, NextFunction, Router } from 'express';
import type { Logger } from 'pino';
import type { ObjectClass } from '../types.ts';
import type { TaskService } from '../tasks/service.ts';
import type { CompletionNotifier } from '../tasks/notifier.ts';
import type { AppError } from '../errors.ts';
import { publicBaseUrl } from './public-url.ts';
import type { ImageStore } from '../tasks/image-store.ts';

/** What every dialect's handlers may use: the task service and the server's start-up facts. */
export interface DialectContext {
  service: TaskService;
  classes: readonly ObjectClass[];
  thresholds: Record<ObjectClass, number>;
  provider: string | null;
  /** The face detector in use (face:yunet with the pack installed, else the bundled ensemble); null without faces. */
  faceDetector?: string | null;
  engineError: string | null;
  version: string;
  inputDir: string;
  maxUploadMb: number;
  apiEndpoint?: string;
  /** --public-host: Host headers trusted for links (see public-url.ts). */
  publicHosts?: readonly string[];
  /** The listening address, for links when neither --api-endpoint nor a trusted Host applies. */
  listenUrl?: () => string;
  /** --lenient-params: unknown query parameters become task warnings instead of a 400. */
  lenientParams?: boolean;
  /** Details that must not reach clients (tool output, paths) go here. */
  log: Logger;
  /** Images and short task keys of the dialects that address them by key (InstaVid360, issue 13). */
  images?: ImageStore;
  /** --instavid-max-upload-mb (InstaVid360's 2 MB limit). */
  instavidMaxUploadMb?: number;
}

export interface Dialect {
  /** Stored with each task it accepts (tasks.dialect); must be stable across releases. */
  readonly name: string;
  /** Adds the dialect's routes (with their full paths) to the router the app mounts. */
  mount(router: Router, ctx: DialectContext): void;
  /** Builds the webhook calls of the tasks this dialect accepted. */
  readonly notifier: CompletionNotifier;
  /** The dialect's OpenAPI document, as served (null when it has none). */
  openapi(ctx: DialectContext): Record<string, unknown> | null;
  /**
   * The token scope every route of this dialect needs (default: the dialect's name, e.g. "celantur");
   * null: the dialect's handlers check scopes themselves (requireScope in auth.ts).
   */
  readonly scope?: string | null;
  /** The error body in the dialect's own shape; without it, the shared `{"error": {code, message, …}}`. */
  errorBody?(err: AppError): unknown;
  /** How this dialect's clients send the API key; without it, "Authorization: Bearer" or "x-api-key". */
  readonly auth?: DialectAuth;
}

/** A dialect's own way of carrying the container's API key (checked by src/http/auth.ts). */
export interface DialectAuth {
  /** Whether the request is for one of this dialect's routes. */
  claims(req: Request): boolean;
  /** The key the client sent, where this dialect's clients send it. */
  keyOf(req: Request): string | undefined;
  /** Requests of this dialect that need no key (availability probes). */
  isPublic?(req: Request): boolean;
  /** Told to a client without the right key. */
  hint: string;
}

export type Handler = (ctx: DialectContext, req: Request, res: Response) => Promise<void> | void;

export interface Route {
  method: 'get' | 'post' | 'delete';
  path: string;
  handler: Handler;
}

/** Adds a route table to a router, passing thrown errors (sync or async) to the error handler. */
export function mountRoutes(router: Router, ctx: DialectContext, routes: readonly Route[]): void {
  for (const route of routes) {
    router[route.method](route.path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        await route.handler(ctx, req, res);
      } catch (err) {
        next(err);
      }
    });
  }
}

/** Base URL for links in responses: --api-endpoint, or the address the client used. */
/** The base URL of links in answers: never an arbitrary client's Host header (see public-url.ts). */
export function baseUrlOf(ctx: DialectContext, req: Request): string {
  return publicBaseUrl(ctx, req);
}
