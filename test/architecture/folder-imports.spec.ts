import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The top-level folder of src/ a file belongs to ('' for src/ itself). */
const folderOf = (file: string): string => relative(SRC, file).split('/').slice(0, -1)[0] ?? '';

/** folder -> folders it imports (type-only imports included: they still couple the folders). */
function folderGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const to = folderOf(resolve(dirname(file), match[1]));
      if (to === from || from === '' || to === '') continue;
      const edges = graph.get(from) ?? new Map<string, string[]>();
      edges.set(to, [...(edges.get(to) ?? []), relative(SRC, file)]);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** Every cycle between folders, each as the path of folders and the files that close it. */
function cycles(graph: Map<string, Map<string, string[]>>): string[] {
  const found = new Set<string>();
  const walk = (start: string, at: string, path: string[]): void => {
    for (const next of graph.get(at)?.keys() ?? []) {
      if (next === start) found.add([...path, start].join(' -> '));
      else if (!path.includes(next) && next > start) walk(start, next, [...path, next]);
    }
  };
  for (const folder of graph.keys()) walk(folder, folder, [folder]);
  return [...found];
}

// STYLE: "No folder cycles. A wrapper that several modules use sits below them all; a flow that
// uses a module sits above it." Regression: oauth/ held the provider client (imported by links/)
// and the flow (which imports links/).
describe('folders of src/', () => {
  it('import each other without cycles', () => {
    const graph = folderGraph();
    expect(graph.size).toBeGreaterThan(5);
    expect(cycles(graph)).toEqual([]);
  });
});
