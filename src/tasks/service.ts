// Accepts tasks, runs them through a bounded queue, keeps SQLite in step, recovers after a restart,
// and calls webhooks. The HTTP layer and the CLI talk to this and nothing below it.
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, copyFile } from 'node:fs/promises';
import { join, extname, basename } from 'node:path';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { DetectionEngine } from '../detect/engine.ts';
import type { ProcessParams } from '../types.ts';
import type { SniffedType } from '../pipeline/sniff.ts';
import type { MediaInfo } from '../pipeline/video/ffmpeg.ts';
import { AppError, BadParameterError, ModelsUnavailableError, NotFoundError, QueueFullError, TaskTimeoutError, internalDetailOf } from '../errors.ts';
import { WebhookGuard, webhookHeaderNameProblem } from '../net/webhook-guard.ts';
import { DEFAULT_MAX_PIXELS } from '../pipeline/limits.ts';
import { TaskStore, type DialectState, type FailureReason, type Task, type TaskStatus, type WebhookTarget } from './store.ts';
import { runTask, type RunOutcome } from './runner.ts';
import { sendWebhook, type WebhookOptions } from './webhook.ts';
import type { CompletionNotifier, TaskEvent } from './notifier.ts';
import type { AccountStore } from '../accounts/store.ts';
import { currentOwner, currentPrincipal } from '../accounts/context.ts';
import { QUOTA_SERVICES, type QuotaService } from '../accounts/types.ts';
import { QuotaExceededError } from '../errors.ts';

/** Starts of one task (across restarts) before it is failed instead of run again. */
export const MAX_ATTEMPTS = 3;

export interface TaskServiceOptions {
  inputDir: string;
  outputDir: string;
  concurrency: number;
  queueLimit: number;
  webhook: WebhookOptions;
  /** Each dialect's notifier, by dialect name: a task's webhook is built by the dialect it came from. */
  notifiers: ReadonlyMap<string, CompletionNotifier>;
  /** --max-pixels (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
  /** --task-timeout in ms; 0 or absent: no limit. */
  taskTimeoutMs?: number;
  /** Which webhook targets may be reached; the default rules when absent. */
  webhookGuard?: WebhookGuard;
  /** Runs a task elsewhere (the pipeline thread, worker-runner.ts) instead of runTask with `engine` on this thread. */
  /** Accounts (issue 13): monthly quotas are taken from here when a token's request creates a task. */
  accounts?: AccountStore;
  run?: (task: Task, signal: AbortSignal, onProgress: (done: number, total: number) => void, limits: { maxPixels: number }) => Promise<RunOutcome>;
}

/** A queue slot held from before the upload is received until the task is queued (or refused). */
export interface QueueSlot {
  release(): void;
}

export interface Upload {
  /** Name of the API dialect that accepted the upload. */
  dialect: string;
  /** A file already on disk (a temporary upload); the service moves it into the input folder. */
  path: string;
  originalName: string;
  /** A video's probe may ride along (probeUpload's answer): it is stored on the task. */
  type: SniffedType & { media?: MediaInfo };
  params: ProcessParams;
  webhook: WebhookTarget | null;
  /** Notes about the request to show with the task. */
  warnings?: string[];
  /** Facts only the dialect reads back (see Task.dialectState). */
  dialectState?: DialectState;
  /** The quota this task consumes a credit of (default: the dialect's name, when that is a quota service). */
  quota?: QuotaService;
}

/** Deletes the files of a dialect's done tasks a while after they finished (see startResultSweeper). */
export interface ResultSweep {
  dialect: string;
  /** Results older than this are deleted. */
  ttlMs: number;
  /** How often to look; the first look is at once. */
  intervalMs: number;
  /** Merged into the dialect state of each swept task. */
  dialectState: DialectState;
}

export interface Completion {
  task: Task;
  /** The error that failed the task, for synchronous callers that answer with its status. */
  error?: unknown;
}

export interface DeleteChoice {
  records: boolean;
  files: boolean;
}

/** Makes a client-supplied name safe as a file name and short enough for any file system. */
export function safeStem(name: string): string {
  const stem = basename(name, extname(name)).normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  return (stem || 'file').slice(0, 100);
}

export class TaskService {
  private readonly queue: PQueue;
  private readonly running = new Map<string, AbortController>();
  private readonly waiters = new Map<string, ((c: Completion) => void)[]>();
  private readonly webhooksInFlight = new Set<Promise<void>>();
  private readonly sweepers = new Set<NodeJS.Timeout>();
  private accepting = true;
  /** Slots held by uploads still arriving or being checked: they count against the queue limit. */
  private reserved = 0;
  readonly webhookGuard: WebhookGuard;

  constructor(
    readonly store: TaskStore,
    private readonly engine: DetectionEngine | null,
    private readonly engineError: string | null,
    private readonly opts: TaskServiceOptions,
    private readonly log: Logger,
  ) {
    this.queue = new PQueue({ concurrency: opts.concurrency });
    this.webhookGuard = opts.webhookGuard ?? new WebhookGuard();
  }

  get queueStats() {
    return { waiting: this.waiting(), running: this.queue.pending, limit: this.opts.queueLimit, concurrency: this.opts.concurrency };
  }

  /** Tasks queued, plus reserved uploads that will find no idle worker (those that will are not waiting). */
  private waiting(): number {
    const idleWorkers = Math.max(0, this.opts.concurrency - this.queue.pending);
    return this.queue.size + Math.max(0, this.reserved - idleWorkers);
  }

  /** Limits every dialect applies when it checks an upload (probeUpload) before accepting it. */
  get limits(): { maxPixels: number } {
    return { maxPixels: this.opts.maxPixels ?? DEFAULT_MAX_PIXELS };
  }

  /**
   * Takes a queue slot synchronously (no await between the check and the count), so that concurrent uploads
   * cannot overshoot --queue-limit. Dialects take it before receiving the body: open uploads count too.
   * Throws QueueFullError (503) or the models/shutdown errors.
   */
  reserve(): QueueSlot {
    if (!this.engine && !this.opts.run) throw new ModelsUnavailableError(`the detection models could not be loaded: ${this.engineError}`);
    if (!this.accepting) throw new AppError(503, 'shutting_down', 'the server is shutting down; retry shortly');
    // One more reservation must not take the tasks that will wait past the limit.
    this.reserved++;
    const over = this.waiting() > this.opts.queueLimit;
    this.reserved--;
    if (over) throw new QueueFullError(this.retryAfterSeconds(), this.opts.queueLimit);
    this.reserved++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.reserved--;
      },
    };
  }

  /** Throws a 400 when a callback target or its auth header is refused (every dialect's webhook goes through here). */
  checkWebhook(target: WebhookTarget | null): void {
    if (!target) return;
    this.webhookGuard.checkUrl(target.url);
    if (target.headerName !== undefined) {
      const problem = webhookHeaderNameProblem(target.headerName);
      if (problem) throw new BadParameterError('web-auth-header-name', problem);
    }
  }

  /**
   * Stores the upload and queues it. Throws QueueFullError (nothing kept) when too many tasks wait.
   * With a slot from reserve(), that slot is used (and released); without one, a slot is taken here.
   */
  async accept(upload: Upload, slot?: QueueSlot): Promise<Task> {
    const held = slot ?? this.reserve();
    try {
      this.checkWebhook(upload.webhook);
      const refund = await this.takeCredit(upload);
      let task: Task;
      try {
        task = await this.persist(upload);
      } catch (err) {
        await refund();
        throw err;
      }
      this.enqueue(task.id);
      return task;
    } finally {
      held.release();
    }
  }

  /**
   * Records an upload that can never be processed (it cannot be decoded) as a failed task with `reason`,
   * for asynchronous clients that expect a task id and learn the outcome by polling or webhook.
   */
  async acceptFailed(upload: Upload, reason: FailureReason): Promise<Task> {
    if (!this.accepting) throw new AppError(503, 'shutting_down', 'the server is shutting down; retry shortly');
    const task = await this.persist(upload);
    this.store.markFailed(task.id, reason);
    const failed = this.store.get(task.id)!;
    this.notify(failed, 'finished');
    return failed;
  }

  /**
   * One credit of the token's account's monthly quota for this service (accounts, issue 13); 429 when none is
   * left. Returns what gives it back if the task cannot be stored.
   */
  private async takeCredit(upload: Upload): Promise<() => Promise<void>> {
    const principal = currentPrincipal();
    const service = upload.quota ?? ((QUOTA_SERVICES as readonly string[]).includes(upload.dialect) ? (upload.dialect as QuotaService) : undefined);
    const accounts = this.opts.accounts;
    if (principal?.kind !== 'token' || !service || !accounts) return async () => {};
    const outcome = await accounts.consumeCredit(principal.accountId, service);
    if (!outcome.allowed) throw new QuotaExceededError(service, outcome.limit ?? 0, outcome.resetAt);
    return () => accounts.refundCredit(principal.accountId, service);
  }

  /** A task the current request may see: any for the --api-key or no auth, only its own for a token. */
  private visible(task: Task | undefined): Task | undefined {
    const owner = currentOwner();
    return task && (owner === undefined || task.createdBy === owner) ? task : undefined;
  }

  private async persist(upload: Upload): Promise<Task> {
    const id = randomUUID();
    const stem = safeStem(upload.originalName);
    const inputDir = join(this.opts.inputDir, id);
    const inputPath = join(inputDir, `${stem}.${upload.type.ext}`);
    await mkdir(inputDir, { recursive: true });
    try {
      await rename(upload.path, inputPath).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EXDEV') throw err;
        await copyFile(upload.path, inputPath);
        await rm(upload.path, { force: true });
      });
      return this.store.insert({
        id,
        dialect: upload.dialect,
        name: upload.originalName || `${stem}.${upload.type.ext}`,
        kind: upload.type.kind,
        mime: upload.type.mime,
        params: upload.params,
        inputPath,
        outputDir: join(this.opts.outputDir, id),
        stem,
        webhook: upload.webhook,
        warnings: upload.warnings,
        dialectState: upload.dialectState,
        probe: upload.type.media,
        createdBy: currentOwner() ?? null,
      });
    } catch (err) {
      await rm(inputDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Resolves when the task is done or failed (or at once if it already is). */
  waitFor(id: string): Promise<Completion> {
    const task = this.visible(this.store.get(id));
    if (!task) return Promise.reject(new NotFoundError(`no task with id ${id}`));
    if (task.status === 'done' || task.status === 'failed' || task.status === 'deleted') return Promise.resolve({ task });
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
  }

  get(id: string): Task {
    const task = this.visible(this.store.get(id));
    if (!task) throw new NotFoundError(`no task with id ${id}`);
    return task;
  }

  list(page: number, limit: number, status?: TaskStatus) {
    return this.store.list(page, limit, status, currentOwner());
  }

  /** Removes the record and/or the files of a task; a running task is stopped first. */
  async delete(id: string, choice: DeleteChoice): Promise<void> {
    const task = this.get(id);
    const deleted = new AppError(409, 'deleted', `task ${id} was deleted before it finished`);
    const controller = this.running.get(id);
    if (controller) controller.abort(deleted);
    // A client waiting for the webhook of an unfinished task learns that it will not finish.
    const unfinished = task.status === 'queued' || task.status === 'processing';
    if (choice.files) {
      await rm(join(this.opts.inputDir, id), { recursive: true, force: true });
      await rm(task.outputDir, { recursive: true, force: true });
    }
    if (choice.records) this.store.remove(id);
    else if (choice.files) this.store.markDeleted(id);
    if (unfinished && task.webhookStatus === 'set') {
      this.notify({ ...task, status: 'deleted', outputs: {}, deleteTime: new Date().toISOString() }, 'deleted');
    }
    this.settle(id, deleted);
  }

  async deleteAll(choice: DeleteChoice): Promise<number> {
    const ids = this.store.allIds(currentOwner());
    for (const id of ids) await this.delete(id, choice);
    return ids.length;
  }

  /** Queues again every task that was queued or running when the process stopped; resends lost webhooks. */
  recover(): { requeued: number; webhooks: number } {
    let requeued = 0;
    for (const t of this.store.unfinished()) {
      // A task that was running each time the process died is likely what killed it: stop retrying it.
      if (t.status === 'processing' && t.attempts >= MAX_ATTEMPTS) {
        this.store.markFailed(t.id, {
          code: 'crashed_repeatedly',
          message: `the server stopped ${t.attempts} times while processing this file; not retried again`,
        });
        const failed = this.store.get(t.id);
        if (failed) this.notify(failed, 'finished');
        continue;
      }
      this.store.requeue(t.id);
      this.enqueue(t.id);
      requeued++;
    }
    const pending = this.store.pendingWebhooks();
    for (const t of pending) this.notify(t, t.status === 'deleted' ? 'deleted' : 'finished');
    if (requeued || pending.length) {
      this.log.info({ requeued, webhooks: pending.length }, 'recovered tasks from the previous run');
    }
    return { requeued, webhooks: pending.length };
  }

  /**
   * Stops taking work, lets running tasks finish within `graceMs`, then aborts what is left and puts it back
   * in the queue (status queued), so that the next start runs it.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    for (const t of this.sweepers) clearInterval(t);
    this.sweepers.clear();
    this.queue.pause();
    this.queue.clear();
    const idle = this.queue.onIdle();
    const timedOut = await Promise.race([idle.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref())]);
    if (timedOut) {
      for (const [id, c] of this.running) {
        c.abort(new AppError(503, 'shutting_down', 'the server is shutting down'));
        this.store.releaseOnShutdown(id);
      }
      await Promise.race([idle, new Promise((r) => setTimeout(r, 5000).unref())]);
    }
    // Synchronous callers of tasks that stay queued learn that the task waits for the next start.
    for (const id of [...this.waiters.keys()]) {
      this.settle(id, new AppError(503, 'shutting_down', `the server is shutting down; task ${id} stays queued and runs after the restart`));
    }
    await Promise.allSettled([...this.webhooksInFlight]);
  }

  /** Merges facts into a task's dialect state (see Task.dialectState). */
  updateDialectState(id: string, patch: DialectState): void {
    if (!this.store.mergeDialectState(id, patch)) throw new NotFoundError(`no task with id ${id}`);
  }

  /**
   * Deletes the files of the dialect's done tasks that finished more than `ttlMs` ago, keeping the records
   * (status deleted). Finish times live in SQLite, so results left when the process stopped are swept by the
   * first look after the next start. Returns the swept task ids.
   */
  async sweepResults(sweep: Omit<ResultSweep, 'intervalMs'>): Promise<string[]> {
    const expired = this.store.doneBefore(sweep.dialect, new Date(Date.now() - sweep.ttlMs).toISOString());
    for (const t of expired) {
      this.store.mergeDialectState(t.id, sweep.dialectState);
      await this.delete(t.id, { records: false, files: true });
    }
    if (expired.length) this.log.info({ dialect: sweep.dialect, count: expired.length }, 'deleted results past their time to live');
    return expired.map((t) => t.id);
  }

  /** Runs sweepResults now and every `intervalMs` until shutdown. */
  startResultSweeper(sweep: ResultSweep): void {
    const run = () => {
      if (!this.accepting) return;
      this.sweepResults(sweep).catch((err: unknown) => this.log.error({ err, dialect: sweep.dialect }, 'result sweep failed'));
    };
    run();
    const timer = setInterval(run, sweep.intervalMs);
    timer.unref();
    this.sweepers.add(timer);
  }

  private retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.waiting() / Math.max(1, this.opts.concurrency)));
  }

  private enqueue(id: string): void {
    void this.queue.add(() => this.execute(id));
  }

  private async execute(id: string): Promise<void> {
    if (!this.accepting) return; // left queued in the store for the next start
    if (!this.store.markProcessing(id)) return; // deleted meanwhile
    const task = this.store.get(id)!;
    const controller = new AbortController();
    this.running.set(id, controller);
    let failure: unknown;
    const timeoutMs = this.opts.taskTimeoutMs ?? 0;
    const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(new TaskTimeoutError(timeoutMs / 1000)), timeoutMs) : undefined;
    let work: Promise<unknown> = Promise.resolve();
    try {
      let lastWrite = 0;
      const onProgress = (done: number, total: number) => {
        const t = Date.now();
        if (t - lastWrite > 250 || done === total) {
          lastWrite = t;
          this.store.setProgress(id, done, total);
        }
      };
      const run = this.opts.run
        ? this.opts.run(task, controller.signal, onProgress, this.limits)
        : runTask(task, this.engine!, controller.signal, onProgress, this.limits);
      work = run.catch(() => undefined);
      // An abort (timeout, DELETE, shutdown) ends the task at once; the pipeline stops at its next step.
      const outcome = await Promise.race([run, abortedBy(controller.signal)]);
      if (controller.signal.aborted) throw controller.signal.reason;
      if (!this.store.markDone(id, outcome.outputs, outcome.detectionCount)) {
        // Deleted while it ran: what it wrote must not outlive the record.
        await rm(task.outputDir, { recursive: true, force: true });
      }
    } catch (err) {
      failure = err;
      if (!this.accepting && controller.signal.aborted) {
        await work;
        this.store.releaseOnShutdown(id);
      } else {
        this.store.markFailed(id, this.failureReason(id, err));
        // What the stopped pipeline still writes must not stay either: wait for it, then clean up.
        await work;
        await rm(task.outputDir, { recursive: true, force: true });
      }
    } finally {
      clearTimeout(timer);
      this.running.delete(id);
    }
    const finished = this.store.get(id);
    if (finished && (finished.status === 'done' || finished.status === 'failed')) {
      this.notify(finished, 'finished');
      this.settle(id, failure);
    }
  }

  private settle(id: string, error?: unknown): void {
    const list = this.waiters.get(id);
    if (!list) return;
    this.waiters.delete(id);
    const task = this.store.get(id);
    for (const resolve of list) {
      resolve({ task: task ?? ({ id, status: 'deleted' } as Task), error });
    }
  }

  /**
   * What the task record, its webhook and a synchronous caller are told: typed errors carry their own public
   * code and message; anything else is an internal fault whose detail goes to the log only.
   */
  private failureReason(id: string, err: unknown): FailureReason {
    if (err instanceof AppError) {
      this.log.info({ task: id, code: err.code, detail: internalDetailOf(err) }, 'task failed');
      return { code: err.code, message: err.message };
    }
    this.log.error({ err, task: id }, 'task failed');
    return { code: 'processing_failed', message: 'processing failed because of an internal error; the server log has the details' };
  }

  private notify(task: Task, event: TaskEvent): void {
    const notifier = this.opts.notifiers.get(task.dialect);
    if (!notifier) {
      if (task.webhook) this.log.warn({ task: task.id, dialect: task.dialect }, 'no notifier for the dialect of this task; webhook not sent');
      return;
    }
    const p = (async () => {
      const request = await notifier.request(task, event);
      if (!request) return;
      const r = await sendWebhook(request, { ...this.opts.webhook, guard: this.webhookGuard });
      if (this.store.get(task.id)) this.store.setWebhookStatus(task.id, r.ok ? 'sent' : 'failed');
      if (!r.ok) this.log.warn({ task: task.id, error: r.error }, 'webhook delivery failed');
      const after = request.afterDelivery;
      if (r.ok && after && this.store.get(task.id)) {
        if (after.dialectState) this.store.mergeDialectState(task.id, after.dialectState);
        if (after.removeFiles) await this.delete(task.id, { records: false, files: true });
      }
    })().catch((err: unknown) => this.log.error({ err, task: task.id }, 'webhook could not be built'));
    this.webhooksInFlight.add(p);
    void p.finally(() => this.webhooksInFlight.delete(p));
  }
}

/** Rejects with the signal's reason when it aborts; never resolves otherwise. */
function abortedBy(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
