/** Shared last step of every conversion: clean the graph and serialise it with provenance metadata. */
import type { OnnxGraph } from './onnx.ts';
import { encodeModel } from './onnx.ts';
import { optimiseGraph } from './optimise.ts';

export const OPSET = 13;

export function finishModel(graph: OnnxGraph, provenance: { source: string; licence: string; description: string }): { bytes: Uint8Array; nodeCount: number } {
  optimiseGraph(graph);
  const bytes = encodeModel({
    graph,
    opsetVersion: OPSET,
    producerName: 'anonymiser tools/models',
    producerVersion: '1',
    docString: provenance.description,
    metadata: { source: provenance.source, licence: provenance.licence },
  });
  return { bytes, nodeCount: graph.nodes.length };
}
