// The fields an operation selects, read from its document: a document's one fragment map, and the
// one walk of a selection set through inline and named fragments. Every check that reads an
// operation's root fields uses it: the root-field limit (plugins/operation-limits.ts), the _service
// guard, the Idempotency-Key header's shape, the call budget and answer cost
// (schema/upstream-calls.ts) and the `rootFields` label (plugins/request-telemetry.ts).
//
// The walk reports what is selected, whatever @skip/@include say: every caller wants that (an
// upper bound, or the label of what was asked). Each caller reads the field nodes as it needs:
// names or response keys, each node once or `times` over.

import { Kind } from 'graphql';
import type { DocumentNode, FieldNode, FragmentDefinitionNode, OperationDefinitionNode, SelectionSetNode } from 'graphql';

/** A document's fragments by name, as graphql-js takes them (`info.fragments`, collectFields): an object without prototype. */
export type Fragments = Readonly<Record<string, FragmentDefinitionNode>>;

/** A field node a selection set selects, and how many times: once per chain of spreads that reaches it. */
export interface SelectedField {
  readonly node: FieldNode;
  readonly times: number;
}

// Yoga's parser cache hands out the same DocumentNode for the same text, and one request's
// document is read by several plugins (validation, then execution): each is mapped and walked once.
const fragmentMaps = new WeakMap<DocumentNode, Fragments>();
const rootFieldLists = new WeakMap<OperationDefinitionNode, readonly SelectedField[]>();

/** The fragments of `document` by name (the last of a name, as graphql-js takes it; validation refuses two). */
export function fragmentsOf(document: DocumentNode): Fragments {
  let fragments = fragmentMaps.get(document);
  if (!fragments) {
    const byName = Object.create(null) as Record<string, FragmentDefinitionNode>;
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) byName[definition.name.value] = definition;
    fragmentMaps.set(document, byName);
    fragments = byName;
  }
  return fragments;
}

/** The root fields of `operation`, one of `document`'s operations (selectedFields of its selection set). */
export function rootFieldsOf(document: DocumentNode, operation: OperationDefinitionNode): readonly SelectedField[] {
  let fields = rootFieldLists.get(operation);
  if (!fields) {
    fields = selectedFields(operation.selectionSet, fragmentsOf(document));
    rootFieldLists.set(operation, fields);
  }
  return fields;
}

/** The fields of one level, inline fragments flattened, and the named fragments it spreads (a name twice when spread twice). */
interface Level {
  fields: FieldNode[];
  spreads: string[];
}

/**
 * The fields `selectionSet` selects at its own level: directly, through inline fragments and
 * through named fragments. Each field node comes once, with `times` it is selected: a fragment
 * spread twice, or spread by two fragments, selects its fields twice. A spread of an unknown
 * fragment, or of one being spread (a cycle, which validation refuses), is not followed. Linear in
 * the selection set and the fragments it reaches however spreads nest (`times` may reach 2^40).
 */
export function selectedFields(selectionSet: SelectionSetNode, fragments: Fragments): SelectedField[] {
  const top = levelOf(selectionSet);
  const selected: SelectedField[] = top.fields.map((node) => ({ node, times: 1 }));
  if (top.spreads.length === 0) return selected;
  // Own names only: a plain object's prototype has a `constructor`.
  const fragmentNamed = (name: string): FragmentDefinitionNode | undefined => (Object.hasOwn(fragments, name) ? fragments[name] : undefined);
  // Each fragment reached, its level and the spreads followed from it; finished in post-order, so
  // a fragment comes after every fragment it spreads.
  const levels = new Map<string, Level>();
  const spreading = new Set<string>();
  const finished: string[] = [];
  const reach = (name: string, fragment: FragmentDefinitionNode): void => {
    spreading.add(name);
    const level = levelOf(fragment.selectionSet);
    level.spreads = level.spreads.filter((spread) => !spreading.has(spread) && fragmentNamed(spread) !== undefined);
    levels.set(name, level);
    for (const spread of level.spreads) if (!levels.has(spread)) reach(spread, fragmentNamed(spread)!);
    spreading.delete(name);
    finished.push(name);
  };
  const times = new Map<string, number>();
  for (const spread of top.spreads) {
    const fragment = fragmentNamed(spread);
    if (!fragment) continue;
    if (!levels.has(spread)) reach(spread, fragment);
    times.set(spread, (times.get(spread) ?? 0) + 1);
  }
  // Spreaders before what they spread: each fragment's count is final when it hands it on.
  for (let i = finished.length - 1; i >= 0; i -= 1) {
    const name = finished[i]!;
    const count = times.get(name)!;
    for (const spread of levels.get(name)!.spreads) times.set(spread, (times.get(spread) ?? 0) + count);
  }
  for (const [name, level] of levels) {
    const count = times.get(name)!;
    for (const node of level.fields) selected.push({ node, times: count });
  }
  return selected;
}

function levelOf(selectionSet: SelectionSetNode, level: Level = { fields: [], spreads: [] }): Level {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) level.fields.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) levelOf(selection.selectionSet, level);
    else level.spreads.push(selection.name.value);
  }
  return level;
}
