// Prometheus metrics of one replica (GET /metrics, prom-client): tasks by dialect and outcome, queue depth,
// processing seconds per task and per pipeline stage, webhook deliveries, the provider, the replicas seen.
// One registry per server, so that several servers in one process (tests) keep their own counts.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Task } from './tasks/task.ts';
import type { TaskObserver, TaskService } from './tasks/service.ts';

const STAGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const TASK_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600];

export class Metrics implements TaskObserver {
  readonly registry = new Registry();
  private readonly acceptedTotal = new Counter({ name: 'anonymiser_tasks_accepted_total', help: 'Tasks accepted by this replica', labelNames: ['dialect'], registers: [this.registry] });
  private readonly endedTotal = new Counter({
    name: 'anonymiser_tasks_finished_total',
    help: 'Tasks this replica ended, by outcome (done, failed) and failure code',
    labelNames: ['dialect', 'status', 'code'],
    registers: [this.registry],
  });
  private readonly taskSeconds = new Histogram({ name: 'anonymiser_task_seconds', help: 'Processing time of one task on this replica', labelNames: ['dialect', 'kind'], buckets: TASK_BUCKETS, registers: [this.registry] });
  private readonly stageSeconds = new Histogram({
    name: 'anonymiser_stage_seconds',
    help: 'Time per pipeline stage of an image: decode, detect.<detector>, render, masks, encode, write',
    labelNames: ['stage'],
    buckets: STAGE_BUCKETS,
    registers: [this.registry],
  });
  private readonly webhooksTotal = new Counter({ name: 'anonymiser_webhook_deliveries_total', help: 'Webhook deliveries by outcome (sent, failed)', labelNames: ['outcome'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'anonymiser_' });
  }

  /** Gauges read at scrape time: the queue (this replica and the cluster), the provider, the replicas. */
  bind(service: TaskService, provider: string | null): void {
    const reg = [this.registry];
    new Gauge({
      name: 'anonymiser_queue_depth',
      help: 'Tasks waiting in the queue shared by every replica',
      registers: reg,
      async collect() {
        this.set((await service.clusterStatus()).queueDepth);
      },
    });
    new Gauge({
      name: 'anonymiser_replicas_seen',
      help: 'Replicas seen by heartbeat within two lease periods',
      registers: reg,
      async collect() {
        this.set((await service.clusterStatus()).replicas.length);
      },
    });
    new Gauge({
      name: 'anonymiser_tasks_running',
      help: 'Tasks this replica is processing',
      registers: reg,
      collect() {
        this.set(service.queueStats.running);
      },
    });
    const info = new Gauge({ name: 'anonymiser_provider_info', help: 'The execution provider in use (value 1)', labelNames: ['provider'], registers: reg });
    info.set({ provider: provider ?? 'none' }, 1);
  }

  accepted(task: Task): void {
    this.acceptedTotal.inc({ dialect: task.dialect });
  }

  finished(task: Task, seconds: number, stageMs?: Record<string, number>): void {
    this.endedTotal.inc({ dialect: task.dialect, status: task.status, code: task.errorCode ?? '' });
    if (seconds > 0) this.taskSeconds.observe({ dialect: task.dialect, kind: task.kind }, seconds);
    for (const [stage, ms] of Object.entries(stageMs ?? {})) this.stageSeconds.observe({ stage }, ms / 1000);
  }

  webhook(_task: Task, ok: boolean): void {
    this.webhooksTotal.inc({ outcome: ok ? 'sent' : 'failed' });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
