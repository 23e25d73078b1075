// Maskit's webhook: one signed multipart POST per finished image (metadata + maskedImage), then the result
// is removed as after a download and the job reads Succeeded. Failed jobs send nothing (Maskit's webhook
// carries only images); their status says Failed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CompletionNotifier, WebhookRequest } from '../../tasks/notifier.ts';
import { signedWebhookRequest } from './signature.ts';
import { downloadName, type MaskitOutcome } from './routes.ts';

/**
 * The one place a Maskit webhook target is vetted before each call (a shared outbound-URL guard belongs
 * here too). The URL is the operator's own --maskit-webhook-url, stored with each job when it was accepted.
 */
export function vetMaskitWebhookTarget(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`the Maskit webhook URL must be http(s), got ${parsed.protocol}`);
  return parsed.href;
}

export function maskitNotifier(secret: string | undefined): CompletionNotifier {
  return {
    async request(task, event): Promise<WebhookRequest | null> {
      if (event !== 'finished' || task.status !== 'done' || !task.webhook || !task.outputs.anonymised || secret === undefined) return null;
      const image = await readFile(join(task.outputDir, task.outputs.anonymised));
      const metadata = typeof task.dialectState.metadata === 'string' ? task.dialectState.metadata : '';
      const { body, headers } = signedWebhookRequest({ metadata, image, filename: downloadName(task), contentType: task.mime }, secret);
      const { 'content-type': contentType, ...rest } = headers;
      const delivered: MaskitOutcome = 'delivered';
      return {
        url: vetMaskitWebhookTarget(task.webhook.url),
        headers: rest,
        body,
        contentType: contentType!,
        afterDelivery: { dialectState: { outcome: delivered }, removeFiles: true },
      };
    },
  };
}
