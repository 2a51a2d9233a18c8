// The README's error-code table, printed from the registry: `npm run docs:errors` writes it between
// the markers, and test/errors/registry.test.ts fails when the README holds another one.

import { errorCodes } from './registry.js';
import type { OutcomeReport } from './registry.js';

export const TABLE_START = '<!-- error-codes:start -->';
export const TABLE_END = '<!-- error-codes:end -->';

const OUTCOME_TEXT: Record<OutcomeReport, string> = {
  absent: '—',
  false: '`false`',
  'if-sent': '`true` if it may have been sent, else `false`',
  true: '`true`',
};

/** The Markdown table of every code, one row each, in the registry's order. */
export function printErrorCodeTable(): string {
  const rows = errorCodes.map(({ code, by, status, outcomeUnknown, meaning }) =>
    `| \`${code}\`${by === 'yoga' ? ' (Yoga)' : ''} | ${status.join(' / ')} | ${OUTCOME_TEXT[outcomeUnknown]} | ${meaning} |`,
  );
  return ['| `extensions.code` | HTTP status | `outcomeUnknown` on a mutation | when |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** `markdown` with the text between the markers replaced by the printed table; throws when a marker is missing. */
export function withErrorCodeTable(markdown: string): string {
  const start = markdown.indexOf(TABLE_START);
  const end = markdown.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`the markers ${TABLE_START} and ${TABLE_END} are missing or out of order`);
  return `${markdown.slice(0, start + TABLE_START.length)}\n${printErrorCodeTable()}\n${markdown.slice(end)}`;
}
