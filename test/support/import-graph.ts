// The import graph of src/, read with TypeScript's own pre-processor: every import, export-from
// and import() of every file, type-only ones included. Project files by path from the repository
// root ("src/upstream/client.ts"); packages by their name ("graphql", "node:http").

import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  from: string;
  to: string;
}

export function sourceFiles(root: string, dir = 'src'): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(root, path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** What `specifier`, written in `file`, names: a project path (.js resolved to its .ts source) or a package. */
function resolveSpecifier(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) {
    const parts = specifier.split('/');
    return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : specifier.startsWith('node:') ? specifier : parts[0]!;
  }
  const path = posix.normalize(posix.join(posix.dirname(file), specifier));
  return path.replace(/\.js$/, '.ts');
}

export function importGraph(root: string): ImportEdge[] {
  return sourceFiles(root).flatMap((file) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    return importedFiles.map(({ fileName }) => ({ from: file, to: resolveSpecifier(file, fileName) }));
  });
}

/** The import cycles: for each strongly connected component of more than one file (or a file importing itself), one cycle through it, as a path. */
export function importCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) if (to.startsWith('src/')) next.set(from, [...(next.get(from) ?? []), to]);
  // Tarjan's algorithm.
  let index = 0;
  const indices = new Map<string, number>();
  const lowlinks = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    lowlinks.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node) ?? []) {
      if (!indices.has(to)) {
        visit(to);
        lowlinks.set(node, Math.min(lowlinks.get(node)!, lowlinks.get(to)!));
      } else if (onStack.has(to)) lowlinks.set(node, Math.min(lowlinks.get(node)!, indices.get(to)!));
    }
    if (lowlinks.get(node) !== indices.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (next.get(node) ?? []).includes(node)) cycles.push(cycleThrough(component, next));
  };
  for (const node of next.keys()) if (!indices.has(node)) visit(node);
  return cycles;
}

/** One shortest cycle of a strongly connected component, from its first file in name order: a path of imports that ends where it starts. */
function cycleThrough(component: readonly string[], next: ReadonlyMap<string, string[]>): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0]!;
  // Breadth-first from the start, within the component, until an import leads back to it.
  const cameFrom = new Map<string, string>();
  let frontier = [start];
  while (frontier.length > 0) {
    const following: string[] = [];
    for (const node of frontier) {
      for (const to of [...(next.get(node) ?? [])].sort()) {
        if (to === start) {
          const path = [node];
          while (path[0] !== start) path.unshift(cameFrom.get(path[0]!)!);
          return path;
        }
        if (members.has(to) && !cameFrom.has(to)) {
          cameFrom.set(to, node);
          following.push(to);
        }
      }
    }
    frontier = following;
  }
  return [start];
}
