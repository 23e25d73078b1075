// `anonymiser models list`: the registry's plugins, their model files and licences, and what is installed.
import type { ObjectClass } from '../types.ts';
import type { ModelCard } from './model-cards.ts';
import type { PluginRole } from './plugin.ts';
import { REGISTRY, type Registry } from './registry.ts';
import type { SessionFactory } from './session.ts';

export interface PluginRow {
  key: string;
  role: PluginRole;
  classes: readonly ObjectClass[];
  stage: string;
  needs: string[];
  members: readonly string[];
  installed: boolean;
  files: (ModelCard & { present: boolean })[];
}

/** One row per plugin of the registry, with its cards and whether its files are in the factory's folders. */
export function describePlugins(factory: SessionFactory, registry: Registry = REGISTRY): PluginRow[] {
  return registry.plugins.map((p) => ({
    key: p.key,
    role: p.role,
    classes: p.classes,
    stage: p.stage,
    needs: p.needs.map((n) => `${n.cls}${n.optional ? ' (optional)' : ''}${n.minScore === undefined ? '' : ` from score ${n.minScore}`}`),
    members: p.members ?? [],
    installed: p.installed(factory),
    files: p.modelCards().map((c) => ({ ...c, present: factory.has(c.file) })),
  }));
}

export function formatPlugins(rows: readonly PluginRow[], registry: Registry = REGISTRY): string {
  const order = (Object.entries(registry.detectors) as [ObjectClass, readonly { key: string }[]][]).map(
    ([cls, list]) => `${cls}: ${list.map((p) => p.key).join(' > ')}${(registry.refiners[cls] ?? []).map((r) => ` (+ ${r.key})`).join('')}`,
  );
  const lines = [`detector plugins (preference per class: ${order.join('; ')})`];
  for (const r of rows) {
    const extra = [r.needs.length > 0 ? `needs ${r.needs.join(', ')}` : '', r.members.length > 0 ? `members ${r.members.join(', ')}` : ''].filter(Boolean);
    lines.push(`${r.key} [${r.role}] ${r.classes.join(', ')}; stage ${r.stage}${extra.length > 0 ? `; ${extra.join('; ')}` : ''}: ${r.installed ? 'installed' : 'not installed'}`);
    for (const f of r.files) {
      const origin = f.origin === 'pack' ? `pack ${f.pack}` : 'bundled';
      lines.push(`  ${f.file} (${origin}, ${f.present ? 'present' : 'missing'}) ${f.licence}; ${f.source}`);
    }
  }
  return lines.join('\n');
}
