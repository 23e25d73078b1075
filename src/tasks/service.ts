// Accepts tasks, claims them from the queue of its backend (SQLite on one host, PostgreSQL shared by many
// replicas), runs them, recovers what a dead process left, and calls webhooks. The HTTP layer and the CLI
// talk to this and nothing below it. Everything it keeps goes through the ports (ports.ts).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join, extname, basename } from 'node:path';
import type { Logger } from 'pino';
import type { DetectionEngine } from '../detect/engine.ts';
import type { ProcessParams } from '../types.ts';
import type { SniffedType } from '../pipeline/sniff.ts';
import type { MediaInfo } from '../pipeline/video/ffmpeg.ts';
import { AppError, BadParameterError, ModelsUnavailableError, NotFoundError, QueueFullError, TaskTimeoutError, internalDetailOf } from '../errors.ts';
import { WebhookGuard, webhookHeaderNameProblem } from '../net/webhook-guard.ts';
import { DEFAULT_MAX_PIXELS } from '../pipeline/limits.ts';
import type { DialectState, FailureReason, Task, TaskStatus, WebhookTarget } from './task.ts';
import type { FileStorage, ReplicaInfo, TaskBackend, TaskSignal } from './ports.ts';
import { FolderStorage } from './files.ts';
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
  /** --lease-s in ms: how long a claimed task stays this replica's without a heartbeat (default 30 s). */
  leaseMs?: number;
  /** How often the queue is polled for work queued by other replicas (default: lease / 3, at most 1 s). */
  pollMs?: number;
  /** How long shutdown waits for aborted tasks to stop before it returns (default 5000 ms); what is left runs again at the next start. */
  abortWaitMs?: number;
  /** The files; default: folders inputDir and outputDir. */
  files?: FileStorage;
  /** Called on task events, for metrics (src/metrics.ts). */
  observe?: TaskObserver;
}

/** Hooks for metrics: what happened, never a decision. */
export interface TaskObserver {
  accepted?(task: Task): void;
  finished?(task: Task, seconds: number, stageMs?: Record<string, number>): void;
  webhook?(task: Task, ok: boolean): void;
}

/** This replica and the cluster it shares a store with (GET /v1/status). */
export interface ClusterStatus {
  replica: { id: string; host: string; running: number; concurrency: number };
  backend: 'sqlite' | 'postgres';
  queueDepth: number;
  replicas: ReplicaInfo[];
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
  private readonly running = new Map<string, AbortController>();
  private readonly waiters = new Map<string, ((c: Completion) => void)[]>();
  private readonly webhooksInFlight = new Set<Promise<void>>();
  private readonly work = new Set<Promise<void>>();
  private readonly sweepers = new Set<NodeJS.Timeout>();
  private accepting = true;
  /** Slots held by uploads still arriving or being checked: they count against the queue limit. */
  private reserved = 0;
  /** Tasks waiting in the store (all replicas), as last seen; the store checks the limit again at insert. */
  private depth = 0;
  private pumping = false;
  private pumpAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  readonly webhookGuard: WebhookGuard;
  /** This process's name in the store: task leases and webhook claims carry it. */
  readonly replicaId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  readonly files: FileStorage;
  private readonly leaseMs: number;

  constructor(
    readonly backend: TaskBackend,
    private readonly engine: DetectionEngine | null,
    private readonly engineError: string | null,
    private readonly opts: TaskServiceOptions,
    private readonly log: Logger,
  ) {
    this.webhookGuard = opts.webhookGuard ?? new WebhookGuard();
    this.files = opts.files ?? new FolderStorage(opts.inputDir, opts.outputDir);
    this.leaseMs = opts.leaseMs ?? 30_000;
  }

  private get tasks() {
    return this.backend.tasks;
  }

  get queueStats() {
    return { waiting: this.waiting(), running: this.running.size, limit: this.opts.queueLimit, concurrency: this.opts.concurrency };
  }

  /** This replica's idle workers: uploads that will find one do not wait. */
  private idleWorkers(): number {
    return Math.max(0, this.opts.concurrency - this.running.size);
  }

  /**
   * Tasks waiting in the store (all replicas, as last seen) plus reserved uploads, less those this replica's
   * idle workers will take at once (they are not waiting).
   */
  private waiting(): number {
    return Math.max(0, this.depth + this.reserved - this.idleWorkers());
  }

  /** Limits every dialect applies when it checks an upload (probeUpload) before accepting it. */
  get limits(): { maxPixels: number } {
    return { maxPixels: this.opts.maxPixels ?? DEFAULT_MAX_PIXELS };
  }

  /**
   * Takes a queue slot synchronously (no await between the check and the count), so that concurrent uploads
   * cannot overshoot --queue-limit. Dialects take it before receiving the body: open uploads count too.
   * Across replicas the store checks the limit again when the task is inserted (accept()).
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
      let created: { task: Task; depth: number };
      try {
        // The store counts again at insert, across replicas: queued tasks beyond what this replica's idle
        // workers take at once must stay within the limit.
        created = await this.persist(upload, (t) =>
          this.tasks.create(t, { queueLimit: this.opts.queueLimit + this.idleWorkers(), retryAfterS: this.retryAfterSeconds() }),
        );
      } catch (err) {
        await refund();
        throw err;
      }
      const { task, depth } = created;
      this.depth = depth;
      this.opts.observe?.accepted?.(task);
      void this.backend.signals.publish(task.id, 'queued').catch(() => undefined);
      this.pump();
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
    const failed = await this.persist(upload, (t) => this.tasks.createFailed(t, reason));
    this.opts.observe?.accepted?.(failed);
    this.opts.observe?.finished?.(failed, 0);
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

  private async persist<T>(upload: Upload, insert: (t: Parameters<TaskBackend['tasks']['create']>[0]) => Promise<T>): Promise<T> {
    const id = randomUUID();
    const stem = safeStem(upload.originalName);
    const inputPath = await this.files.intake(upload.path, id, `${stem}.${upload.type.ext}`);
    const outputDir = join(this.opts.outputDir, id);
    try {
      return await insert({
        id,
        dialect: upload.dialect,
        name: upload.originalName || `${stem}.${upload.type.ext}`,
        kind: upload.type.kind,
        mime: upload.type.mime,
        params: upload.params,
        inputPath,
        outputDir,
        stem,
        webhook: upload.webhook,
        warnings: upload.warnings,
        dialectState: upload.dialectState,
        probe: upload.type.media,
        createdBy: currentOwner() ?? null,
      });
    } catch (err) {
      await this.files.removeTask(id, outputDir);
      throw err;
    }
  }

  /** Resolves when the task is done or failed (or at once if it already is), whichever replica runs it. */
  async waitFor(id: string): Promise<Completion> {
    let resolveIt!: (c: Completion) => void;
    const done = new Promise<Completion>((r) => (resolveIt = r));
    // Listen first, then read: a task that ends in between is not missed.
    const list = this.waiters.get(id) ?? [];
    list.push(resolveIt);
    this.waiters.set(id, list);
    const task = this.visible(await this.tasks.get(id));
    if (!task || isEnded(task.status)) {
      const left = (this.waiters.get(id) ?? []).filter((r) => r !== resolveIt);
      if (left.length) this.waiters.set(id, left);
      else this.waiters.delete(id);
      if (!task) throw new NotFoundError(`no task with id ${id}`);
      return { task };
    }
    return done;
  }

  async get(id: string): Promise<Task> {
    const task = this.visible(await this.tasks.get(id));
    if (!task) throw new NotFoundError(`no task with id ${id}`);
    return task;
  }

  list(page: number, limit: number, status?: TaskStatus): Promise<{ total: number; items: Task[] }> {
    return this.tasks.list(page, limit, status, currentOwner());
  }

  countByStatus(): Promise<Record<TaskStatus, number>> {
    return this.tasks.countByStatus();
  }

  /** This replica, the queue depth and the replicas seen by heartbeat within two lease periods (beats come every third of one). */
  async clusterStatus(): Promise<ClusterStatus> {
    const [queueDepth, replicas] = await Promise.all([this.backend.queue.depth(), this.backend.cluster.replicas(2 * this.leaseMs)]);
    this.depth = queueDepth;
    return {
      replica: { id: this.replicaId, host: hostname(), running: this.running.size, concurrency: this.opts.concurrency },
      backend: this.backend.kind,
      queueDepth,
      replicas,
    };
  }

  /** Removes the record and/or the files of a task; a running task is stopped first, on whichever replica runs it. */
  async delete(id: string, choice: DeleteChoice): Promise<void> {
    const task = await this.get(id);
    const deleted = new AppError(409, 'deleted', `task ${id} was deleted before it finished`);
    const controller = this.running.get(id);
    if (controller) controller.abort(deleted);
    else if (task.status === 'processing') await this.backend.signals.publish(id, 'cancel').catch(() => undefined);
    // A client waiting for the webhook of an unfinished task learns that it will not finish.
    const unfinished = task.status === 'queued' || task.status === 'processing';
    if (choice.files) await this.files.removeTask(id, task.outputDir);
    if (choice.records) await this.tasks.remove(id);
    else if (choice.files) await this.tasks.markDeleted(id);
    if (unfinished && task.webhookStatus === 'set') {
      // A removed record cannot be claimed: this replica alone knows of the delivery.
      this.notify({ ...task, status: 'deleted', outputs: {}, deleteTime: new Date().toISOString() }, 'deleted', !choice.records);
    }
    this.settle(id, deleted);
    void this.backend.signals.publish(id, 'settled').catch(() => undefined);
  }

  async deleteAll(choice: DeleteChoice): Promise<number> {
    const ids = await this.tasks.allIds(currentOwner());
    for (const id of ids) await this.delete(id, choice).catch((err: unknown) => {
      if (!(err instanceof NotFoundError)) throw err; // deleted meanwhile by another request
    });
    return ids.length;
  }

  /**
   * Queues again what a stopped process left processing (on one host: everything; shared: expired leases),
   * fails what crashed MAX_ATTEMPTS times, resends lost webhooks, then starts claiming work.
   */
  async recover(): Promise<{ requeued: number; webhooks: number }> {
    const r = await this.recoverLost(!this.backend.shared);
    const webhooks = await this.resendPending();
    if (r.requeued || webhooks) this.log.info({ requeued: r.requeued, webhooks }, 'recovered tasks from the previous run');
    this.start();
    return { requeued: r.requeued, webhooks };
  }

  private async recoverLost(all: boolean): Promise<{ requeued: number }> {
    const { requeued, failed } = await this.backend.queue.recover({ all, except: this.replicaId, maxAttempts: MAX_ATTEMPTS });
    for (const t of failed) {
      this.opts.observe?.finished?.(t, 0);
      this.notify(t, 'finished');
      void this.backend.signals.publish(t.id, 'settled').catch(() => undefined);
    }
    for (const id of requeued) void this.backend.signals.publish(id, 'queued').catch(() => undefined);
    return { requeued: requeued.length };
  }

  private async resendPending(): Promise<number> {
    const pending = await this.tasks.pendingWebhooks();
    for (const t of pending) this.notify(t, t.status === 'deleted' ? 'deleted' : 'finished');
    return pending.length;
  }

  /** Heartbeats, polling and signals: started by recover(). */
  private start(): void {
    if (this.timer || !this.accepting) return;
    this.unsubscribe = this.backend.signals.subscribe((id, signal) => this.onSignal(id, signal));
    const pollMs = this.opts.pollMs ?? Math.min(1000, Math.max(50, Math.floor(this.leaseMs / 3)));
    const beatEvery = Math.max(1, Math.floor(this.leaseMs / 3 / pollMs));
    let tick = 0;
    const run = async () => {
      if (!this.accepting) return;
      try {
        if (tick++ % beatEvery === 0) await this.beat();
        this.depth = await this.backend.queue.depth();
        this.pump();
        await this.checkWaiters();
      } catch (err) {
        this.log.warn({ err }, 'task store unreachable; retrying');
      }
      if (this.accepting) this.timer = setTimeout(run, pollMs).unref();
    };
    this.timer = setTimeout(run, 0).unref();
  }

  /** Renews leases, aborts tasks it no longer holds, requeues tasks of replicas that stopped beating. */
  private async beat(): Promise<void> {
    const held = new Set(await this.backend.queue.heartbeat(this.replicaId, this.leaseMs));
    for (const [id, c] of this.running) {
      if (!held.has(id) && !c.signal.aborted) c.abort(new AppError(409, 'deleted', `task ${id} was deleted or taken over before it finished`));
    }
    await this.backend.cluster.beat({ id: this.replicaId, host: hostname(), concurrency: this.opts.concurrency, running: this.running.size });
    if (this.backend.shared) {
      await this.recoverLost(false);
      await this.resendPending();
    }
  }

  /** Sync waiters on this replica for tasks that run elsewhere: a missed signal is caught here. */
  private async checkWaiters(): Promise<void> {
    if (!this.backend.shared) return;
    for (const id of [...this.waiters.keys()]) {
      if (this.running.has(id)) continue;
      const task = await this.tasks.get(id);
      if (!task || isEnded(task.status)) this.settle(id, undefined, task);
    }
  }

  private onSignal(id: string, signal: TaskSignal): void {
    if (signal === 'queued') this.pump();
    else if (signal === 'cancel') this.running.get(id)?.abort(new AppError(409, 'deleted', `task ${id} was deleted before it finished`));
    else if (signal === 'settled' && this.waiters.has(id) && !this.running.has(id)) {
      void this.tasks.get(id).then((t) => {
        if (!t || isEnded(t.status)) this.settle(id, undefined, t);
      }, () => undefined);
    }
  }

  /**
   * Stops taking work, lets running tasks finish within `graceMs`, then aborts what is left and hands it back
   * to the queue (status queued), so that another replica, or the next start, runs it.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    for (const t of this.sweepers) clearInterval(t);
    this.sweepers.clear();
    const idle = () => Promise.allSettled([...this.work]);
    const timedOut = await Promise.race([idle().then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref())]);
    if (timedOut) {
      for (const [, c] of this.running) c.abort(new AppError(503, 'shutting_down', 'the server is shutting down'));
      await Promise.race([idle(), new Promise((r) => setTimeout(r, this.opts.abortWaitMs ?? 5000).unref())]);
    }
    // Synchronous callers of tasks that stay queued learn that the task waits for the next start.
    for (const id of [...this.waiters.keys()]) {
      this.settle(id, new AppError(503, 'shutting_down', `the server is shutting down; task ${id} stays queued and runs after the restart`));
    }
    await Promise.allSettled([...this.webhooksInFlight]);
    await this.backend.cluster.leave(this.replicaId).catch(() => undefined);
  }

  /** Merges facts into a task's dialect state (see Task.dialectState). */
  async updateDialectState(id: string, patch: DialectState): Promise<Task> {
    const task = await this.tasks.mergeDialectState(id, patch);
    if (!task) throw new NotFoundError(`no task with id ${id}`);
    return task;
  }

  /**
   * Deletes the files of the dialect's done tasks that finished more than `ttlMs` ago, keeping the records
   * (status deleted). Finish times live in the store, so results left when the process stopped are swept by the
   * first look after the next start. Returns the swept task ids.
   */
  async sweepResults(sweep: Omit<ResultSweep, 'intervalMs'>): Promise<string[]> {
    const expired = await this.tasks.doneBefore(sweep.dialect, new Date(Date.now() - sweep.ttlMs).toISOString());
    for (const t of expired) {
      // Another replica's sweeper may get there first: a task already gone is skipped.
      if (!(await this.tasks.mergeDialectState(t.id, sweep.dialectState))) continue;
      await this.delete(t.id, { records: false, files: true }).catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) throw err;
      });
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

  /** Claims queued tasks while this replica has free slots. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    if (!this.accepting || (!this.engine && !this.opts.run)) return;
    this.pumping = true;
    void (async () => {
      try {
        do {
          this.pumpAgain = false;
          while (this.accepting && this.running.size < this.opts.concurrency) {
            const task = await this.backend.queue.claim(this.replicaId, this.leaseMs);
            if (!task) break;
            this.depth = Math.max(0, this.depth - 1);
            if (!this.accepting) {
              await this.backend.queue.release(task.id, this.replicaId);
              break;
            }
            // A task's bookkeeping can fail after shutdown closed the store (a pipeline that outlived the abort
            // wait): the record stays processing under this replica, and the next start queues it again.
            const p = this.execute(task).catch((err: unknown) => this.log.warn({ err, task: task.id }, 'could not record the end of a task; it runs again after the restart'));
            this.work.add(p);
            void p.finally(() => {
              this.work.delete(p);
              this.pump();
            });
          }
        } while (this.pumpAgain && this.accepting);
      } catch (err) {
        this.log.warn({ err }, 'could not claim a task; retrying at the next poll');
      } finally {
        this.pumping = false;
      }
    })();
  }

  private async execute(task: Task): Promise<void> {
    const id = task.id;
    const started = Date.now();
    const controller = new AbortController();
    this.running.set(id, controller);
    let failure: unknown;
    let finished: Task | undefined;
    let stageMs: Record<string, number> | undefined;
    const timeoutMs = this.opts.taskTimeoutMs ?? 0;
    const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(new TaskTimeoutError(timeoutMs / 1000)), timeoutMs) : undefined;
    let work: Promise<unknown> = Promise.resolve();
    try {
      let lastWrite = 0;
      const onProgress = (done: number, total: number) => {
        const t = Date.now();
        if (t - lastWrite > 250 || done === total) {
          lastWrite = t;
          void this.tasks.setProgress(id, done, total).catch(() => undefined);
        }
      };
      const run = this.opts.run
        ? this.opts.run(task, controller.signal, onProgress, this.limits)
        : runTask(task, this.engine!, controller.signal, onProgress, this.limits);
      work = run.catch(() => undefined);
      // An abort (timeout, DELETE, shutdown) ends the task at once; the pipeline stops at its next step.
      const outcome = await Promise.race([run, abortedBy(controller.signal)]);
      if (controller.signal.aborted) throw controller.signal.reason;
      stageMs = outcome.timings;
      finished = await this.tasks.finish(id, this.replicaId, outcome.outputs, outcome.detectionCount);
      // Deleted (or taken over) while it ran: what it wrote must not outlive the record.
      if (!finished) await this.files.removeOutputs(task.outputDir);
    } catch (err) {
      failure = err;
      if (!this.accepting && controller.signal.aborted) {
        await work;
        await this.backend.queue.release(id, this.replicaId);
        void this.backend.signals.publish(id, 'queued').catch(() => undefined);
      } else if (isDeletion(controller.signal)) {
        // Deleted (here or on another replica): the deleting side records it and sends the deleted webhook.
        await work;
        await this.files.removeOutputs(task.outputDir);
      } else {
        finished = await this.tasks.fail(id, this.failureReason(id, err), this.replicaId);
        // What the stopped pipeline still writes must not stay either: wait for it, then clean up.
        await work;
        await this.files.removeOutputs(task.outputDir);
      }
    } finally {
      clearTimeout(timer);
      this.running.delete(id);
    }
    if (finished && (finished.status === 'done' || finished.status === 'failed')) {
      this.opts.observe?.finished?.(finished, (Date.now() - started) / 1000, stageMs);
      this.notify(finished, 'finished');
      this.settle(id, failure, finished);
      void this.backend.signals.publish(id, 'settled').catch(() => undefined);
    }
  }

  private settle(id: string, error?: unknown, known?: Task): void {
    const list = this.waiters.get(id);
    if (!list) return;
    this.waiters.delete(id);
    const answer = (task: Task | undefined) => {
      // A task that failed on another replica: its sync caller gets the same code and message as a local one.
      const why =
        error ??
        (task?.status === 'failed' && task.errorCode
          ? failureFromRecord(task)
          : !task || task.status === 'deleted'
            ? new AppError(409, 'deleted', `task ${id} was deleted before it finished`)
            : undefined);
      for (const resolve of list) resolve({ task: task ?? ({ id, status: 'deleted' } as Task), error: why });
    };
    if (known) return answer(known);
    void this.tasks.get(id).then(answer, () => answer(undefined));
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

  /**
   * Sends the task's webhook if its dialect wants one. With `claim` (the default) the delivery is claimed in
   * the store first, so that exactly one replica sends it; the claim is renewed by heartbeats until recorded.
   */
  private notify(task: Task, event: TaskEvent, claim = true): void {
    const notifier = this.opts.notifiers.get(task.dialect);
    if (!notifier) {
      if (task.webhook) this.log.warn({ task: task.id, dialect: task.dialect }, 'no notifier for the dialect of this task; webhook not sent');
      return;
    }
    if (!task.webhook && task.webhookStatus !== 'set') return;
    const p = (async () => {
      if (claim && !(await this.tasks.claimWebhook(task.id, this.replicaId, this.leaseMs))) return;
      const request = await notifier.request(task, event);
      if (!request) {
        if (claim) await this.tasks.setWebhookStatus(task.id, 'set');
        return;
      }
      const r = await sendWebhook(request, { ...this.opts.webhook, guard: this.webhookGuard });
      this.opts.observe?.webhook?.(task, r.ok);
      await this.tasks.setWebhookStatus(task.id, r.ok ? 'sent' : 'failed');
      if (!r.ok) this.log.warn({ task: task.id, error: r.error }, 'webhook delivery failed');
      const after = request.afterDelivery;
      if (r.ok && after && (await this.tasks.get(task.id))) {
        if (after.dialectState) await this.tasks.mergeDialectState(task.id, after.dialectState);
        if (after.removeFiles) await this.delete(task.id, { records: false, files: true });
      }
    })().catch((err: unknown) => this.log.error({ err, task: task.id }, 'webhook could not be built'));
    this.webhooksInFlight.add(p);
    void p.finally(() => this.webhooksInFlight.delete(p));
  }
}

/** Statuses of the failure codes a task record keeps (errors.ts): file problems 422, a DELETE 409, faults 500. */
const FAILURE_STATUS: Record<string, number> = { deleted: 409, processing_failed: 500, crashed_repeatedly: 500, models_unavailable: 500 };

function failureFromRecord(task: Task): AppError {
  return new AppError(FAILURE_STATUS[task.errorCode!] ?? 422, task.errorCode!, task.error ?? 'processing failed');
}

function isDeletion(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof AppError && signal.reason.code === 'deleted';
}

function isEnded(status: TaskStatus): boolean {
  return status === 'done' || status === 'failed' || status === 'deleted';
}

/** Rejects with the signal's reason when it aborts; never resolves otherwise. */
function abortedBy(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
