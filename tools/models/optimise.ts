/**
 * Graph clean-up after conversion: merges chains of Transposes (the converters wrap NHWC ops in
 * Transpose pairs), folds Identity nodes into their producers, and drops dead nodes and initialisers.
 * Every rewrite is exact, so results do not change.
 */
import type { OnnxGraph, OnnxNode } from './onnx.ts';
import { attr } from './graph-builder.ts';

function perm(node: OnnxNode): number[] {
  const a = node.attributes['perm'];
  if (!a || a.type !== 'ints') throw new Error(`Transpose ${node.name} without perm`);
  return a.value;
}

function replaceUses(graph: OnnxGraph, from: string, to: string): void {
  for (const n of graph.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
}

function producers(graph: OnnxGraph): Map<string, OnnxNode> {
  const m = new Map<string, OnnxNode>();
  for (const n of graph.nodes) for (const o of n.outputs) m.set(o, n);
  return m;
}

function mergeTransposes(graph: OnnxGraph): boolean {
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const byOutput = producers(graph);
  let changed = false;
  for (const node of graph.nodes) {
    if (node.opType !== 'Transpose') continue;
    const inner = byOutput.get(node.inputs[0]!);
    if (!inner || inner.opType !== 'Transpose') continue;
    const p1 = perm(inner);
    const p2 = perm(node);
    const combined = p2.map((p) => p1[p]!);
    const source = inner.inputs[0]!;
    if (combined.every((p, i) => p === i) && !graphOutputs.has(node.outputs[0]!)) {
      replaceUses(graph, node.outputs[0]!, source);
      node.inputs = [];
      node.opType = 'Dead';
    } else {
      node.inputs = [source];
      node.attributes = { ...node.attributes, perm: attr.ints(combined) };
    }
    changed = true;
  }
  return changed;
}

/** An Identity that feeds a graph output is removed by renaming its producer's output. */
function foldIdentities(graph: OnnxGraph): void {
  const graphInputs = new Set(graph.inputs.map((i) => i.name));
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const byOutput = producers(graph);
  for (const node of graph.nodes) {
    if (node.opType !== 'Identity') continue;
    const source = node.inputs[0]!;
    const producer = byOutput.get(source);
    const consumers = graph.nodes.filter((n) => n.inputs.includes(source)).length;
    if (!producer || graphInputs.has(source) || graphOutputs.has(source) || graph.initializers.has(source)) continue;
    if (consumers === 1) {
      producer.outputs = producer.outputs.map((o) => (o === source ? node.outputs[0]! : o));
      node.opType = 'Dead';
      node.inputs = [];
    } else if (!graphOutputs.has(node.outputs[0]!)) {
      replaceUses(graph, node.outputs[0]!, source);
      node.opType = 'Dead';
      node.inputs = [];
    }
  }
}

function removeDead(graph: OnnxGraph): void {
  const needed = new Set(graph.outputs.map((o) => o.name));
  const kept: OnnxNode[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i]!;
    if (n.opType === 'Dead' || !n.outputs.some((o) => needed.has(o))) continue;
    kept.push(n);
    for (const input of n.inputs) if (input) needed.add(input);
  }
  graph.nodes = kept.reverse();
  for (const name of [...graph.initializers.keys()]) if (!needed.has(name)) graph.initializers.delete(name);
}

export function optimiseGraph(graph: OnnxGraph): OnnxGraph {
  while (mergeTransposes(graph)) removeDead(graph);
  foldIdentities(graph);
  removeDead(graph);
  return graph;
}
