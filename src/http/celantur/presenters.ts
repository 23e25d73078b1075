// The JSON shape of a task as Celantur's API shows it (field names from its v1 API), plus our additions.
import type { Task } from '../../tasks/store.ts';
import { taskLinks } from './links.ts';

export function presentTask(task: Task, baseUrl: string) {
  const p = task.params;
  return {
    id: task.id,
    file_id: task.id,
    name: task.name,
    media_type: task.kind,
    content_type: task.mime,
    status: task.status,
    file_status: task.status,
    error: task.error,
    upload_time: task.uploadTime,
    start_time: task.startTime,
    end_time: task.endTime,
    delete_time: task.deleteTime,
    progress: { done: task.progressDone, total: task.progressTotal },
    detections: task.detectionCount,
    webhook: task.webhook?.url ?? null,
    webhook_status: task.webhookStatus,
    parameters: {
      method: p.method,
      debug: p.debug,
      score: p.score,
      face: p.classes.includes('face'),
      license_plate: p.classes.includes('license-plate'),
      person: p.classes.includes('person'),
      vehicle: p.classes.includes('vehicle'),
      bbox: p.bbox,
      ignores: p.ignores,
      mask_scale: p.maskScale,
      save_mask: p.saveMask,
      quality: p.quality,
      compress_level: p.compressLevel,
      kernel_size_face: p.kernelSize.face,
      kernel_size_license_plate: p.kernelSize['license-plate'],
      kernel_size_person: p.kernelSize.person,
      kernel_size_vehicle: p.kernelSize.vehicle,
      face_anonymization_gradient_start: p.gradient.face.start,
      face_anonymization_gradient_stop: p.gradient.face.stop,
      license_plate_anonymization_gradient_start: p.gradient['license-plate'].start,
      license_plate_anonymization_gradient_stop: p.gradient['license-plate'].stop,
      face_threshold: p.thresholds.face,
      license_plate_threshold: p.thresholds['license-plate'],
      person_threshold: p.thresholds.person,
      vehicle_threshold: p.thresholds.vehicle,
      fill_color: p.fillColor,
    },
    links: taskLinks(task, baseUrl),
  };
}
