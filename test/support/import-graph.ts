// The import graph of src/, read with TypeScript's own pre-processor: every import, export-from
// and import() of every file, type-only ones included. Project files by path from the repository
// root ("src/upstream/client.ts"); packages by their name ("graphql", "node:http").

import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
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
    return importedFiles.map(({ fileName }) => ({ from: file, to: resolveSpecifier(file, fileName), specifier: fileName }));
  }).map(({ from, to }) => ({ from, to }));
}

/** The import cycles (strongly connected components of more than one file, or a file importing itself), each as a path. */
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
    if (component.length > 1 || (next.get(node) ?? []).includes(node)) cycles.push(component.reverse());
  };
  for (const node of next.keys()) if (!indices.has(node)) visit(node);
  return cycles;
}

export const repositoryRoot = relative(process.cwd(), new URL('../..', import.meta.url).pathname) || '.';
