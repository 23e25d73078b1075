// A task record as every part of the service sees it, whichever store keeps it (src/tasks/ports.ts).
import type { ProcessParams } from '../types.ts';
import type { MediaKind } from '../pipeline/sniff.ts';
import type { MediaInfo } from '../pipeline/video/ffmpeg.ts';

export type TaskStatus = 'queued' | 'processing' | 'done' | 'failed' | 'deleted';
export type WebhookStatus = 'empty' | 'set' | 'sent' | 'failed';

export interface WebhookTarget {
  url: string;
  headerName?: string;
  headerValue?: string;
}

/** Files a finished task produced, relative to its output folder. */
export interface TaskOutputs {
  anonymised?: string;
  binaryMask?: string;
  instanceMask?: string;
  /** PEKAT's heatmap: the soft anonymisation mask. */
  heatmap?: string;
  metadata?: string;
  videoMetadataDir?: string;
}

/** Why a task failed: a stable code and a short message that is safe to show (no paths, no tool output). */
export interface FailureReason {
  code: string;
  message: string;
}

export interface Task {
  id: string;
  /** The API dialect the task came from (src/http/<dialect>/); it presents the task and notifies its webhook. */
  dialect: string;
  name: string;
  kind: MediaKind;
  mime: string;
  status: TaskStatus;
  /** The failure's message (null unless failed); its code is in `errorCode`. */
  error: string | null;
  errorCode: string | null;
  /** Notes about the request the dialect wants shown with the task (e.g. parameters accepted but ignored). */
  warnings: string[];
  /** Per-task facts only its dialect reads (e.g. Maskit's metadata string and download outcome). */
  dialectState: DialectState;
  params: ProcessParams;
  inputPath: string;
  outputDir: string;
  stem: string;
  outputs: TaskOutputs;
  webhook: WebhookTarget | null;
  webhookStatus: WebhookStatus;
  progressDone: number;
  progressTotal: number;
  detectionCount: number | null;
  attempts: number;
  uploadTime: string;
  startTime: string | null;
  endTime: string | null;
  deleteTime: string | null;
  /** A video's ffprobe result, taken when the upload was checked; the pipeline does not probe again (null: images, older tasks). */
  probe: MediaInfo | null;
  /** The token that created the task (accounts, issue 13); null: the --api-key or no authentication. Not the lease owner. */
  createdBy: string | null;
}

export interface NewTask {
  id: string;
  dialect: string;
  name: string;
  kind: MediaKind;
  mime: string;
  params: ProcessParams;
  inputPath: string;
  outputDir: string;
  stem: string;
  webhook: WebhookTarget | null;
  warnings?: string[];
  dialectState?: DialectState;
  probe?: MediaInfo;
  createdBy?: string | null;
}

/** JSON-serialisable facts a dialect keeps with a task. */
export type DialectState = Record<string, string | number | boolean | null>;
