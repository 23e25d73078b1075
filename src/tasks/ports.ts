// The ports of the task service: what it needs from a store, a queue, a signal bus and a file store.
// Implementations: SQLite for one host (store.ts, signals.ts) and PostgreSQL for many replicas (pg/).
// Every implementation passes the same contract suite (test/tasks/contract/).
import type { DialectState, FailureReason, NewTask, Task, TaskOutputs, TaskStatus, WebhookStatus } from './task.ts';

export type { DialectState, FailureReason, NewTask, Task, TaskOutputs, TaskStatus, WebhookStatus, WebhookTarget } from './task.ts';

/** Task records: intake, reads, the results a worker writes, deletion. */
export interface TaskRepository {
  /**
   * Stores a new queued task. With `queueLimit`, refuses (QueueFullError) when that many tasks already wait,
   * counted across every replica on the store; `depth` is the number waiting after the insert.
   */
  create(task: NewTask, opts?: { queueLimit?: number; retryAfterS?: number }): Promise<{ task: Task; depth: number }>;
  /** Stores a task that failed before it could be queued (an undecodable upload). */
  createFailed(task: NewTask, reason: FailureReason): Promise<Task>;
  get(id: string): Promise<Task | undefined>;
  /** Newest first; page starts at 1. `createdBy`: only the tasks that token created (accounts). */
  list(page: number, limit: number, status?: TaskStatus, createdBy?: string): Promise<{ total: number; items: Task[] }>;
  allIds(createdBy?: string): Promise<string[]>;
  setProgress(id: string, done: number, total: number): Promise<void>;
  /** Records the outputs of a task this owner is processing; undefined when it is no longer its (deleted, lease lost). */
  finish(id: string, owner: string, outputs: TaskOutputs, detectionCount: number | null): Promise<Task | undefined>;
  /** Fails a queued task, or one processing under `owner` (any owner when absent); undefined when it was not. */
  fail(id: string, reason: FailureReason, owner?: string): Promise<Task | undefined>;
  /** Keeps the record with status deleted and no outputs. */
  markDeleted(id: string): Promise<Task | undefined>;
  remove(id: string): Promise<void>;
  /** Merges `patch` into the task's dialect state (atomically); undefined when there is no such task. */
  mergeDialectState(id: string, patch: DialectState): Promise<Task | undefined>;
  /** Done tasks of one dialect that finished before `isoTime` (ISO 8601), oldest first. */
  doneBefore(dialect: string, isoTime: string): Promise<Task[]>;
  countByStatus(): Promise<Record<TaskStatus, number>>;
  /**
   * Takes the right to send this task's pending webhook (status set, not claimed by a live owner). Only one
   * caller wins; the claim lasts `leaseMs` and is renewed by heartbeat().
   */
  claimWebhook(id: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Records the delivery's outcome and drops the claim. */
  setWebhookStatus(id: string, status: WebhookStatus): Promise<void>;
  /** Ended tasks whose webhook is still due and unclaimed (or its claimer stopped renewing). */
  pendingWebhooks(): Promise<Task[]>;
  close(): Promise<void>;
}

/** The work queue: queued tasks are claimed with a lease that the claimer renews. */
export interface JobQueue {
  /** Claims the oldest queued task for `owner` (attempts + 1), or undefined when none waits. */
  claim(owner: string, leaseMs: number): Promise<Task | undefined>;
  /** Renews the leases (tasks and webhook claims) held by `owner`; answers the ids of the tasks it still holds. */
  heartbeat(owner: string, leaseMs: number): Promise<string[]>;
  /** Hands a task back (graceful shutdown): queued again, that start not counted as an attempt. */
  release(id: string, owner: string): Promise<void>;
  /**
   * Tasks left processing by an owner that is gone: with `all`, every processing task not held by `except`
   * (one host, at start); otherwise those whose lease ran out. Each is queued again, or failed
   * (crashed_repeatedly) once it has been started `maxAttempts` times.
   */
  recover(opts: { all: boolean; except: string; maxAttempts: number }): Promise<{ requeued: string[]; failed: Task[] }>;
  /** Tasks waiting, across every replica. */
  depth(): Promise<number>;
}

export interface ReplicaInfo {
  id: string;
  host: string;
  startedAt: string;
  lastSeen: string;
  concurrency: number;
  running: number;
}

/** Who else serves the same store: each replica beats, status lists those seen recently. */
export interface ClusterRegistry {
  beat(replica: Omit<ReplicaInfo, 'lastSeen' | 'startedAt'>): Promise<void>;
  replicas(seenWithinMs: number): Promise<ReplicaInfo[]>;
  leave(id: string): Promise<void>;
}

/** What a replica tells the others: a task ended, was queued, or must stop (deleted elsewhere). */
export type TaskSignal = 'settled' | 'queued' | 'cancel';

export interface CompletionSignals {
  publish(id: string, signal: TaskSignal): Promise<void>;
  subscribe(listener: (id: string, signal: TaskSignal) => void): () => void;
  close(): Promise<void>;
}

/** One backend: a store that is also the queue and the registry, and its signal bus. */
export interface TaskBackend {
  readonly kind: 'sqlite' | 'postgres';
  /** Whether other processes may share the store (then leases decide, and start-up sweeps are skipped). */
  readonly shared: boolean;
  readonly tasks: TaskRepository;
  readonly queue: JobQueue;
  readonly cluster: ClusterRegistry;
  readonly signals: CompletionSignals;
  close(): Promise<void>;
}

/** The input and output folders (a local disk, or a volume every replica mounts). */
export interface FileStorage {
  readonly inputDir: string;
  readonly outputDir: string;
  /** Moves an uploaded temporary file into the task's input folder; answers its path there. */
  intake(tempPath: string, id: string, fileName: string): Promise<string>;
  /** Removes a task's input folder and its output folder. */
  removeTask(id: string, outputDir: string): Promise<void>;
  removeOutputs(outputDir: string): Promise<void>;
}
