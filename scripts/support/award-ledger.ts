// Every award of a run, from both sides: what the upstream recorded (and under which id) and what
// its client was answered. Each award carries its number in `input.message`, so the upstream's
// responder and the client's classifier meet on it. Typed arrays, sized once: the ledger is not
// what a memory check of the gateway should see grow.

const MESSAGE_PREFIX = 'award-';

/** How a client's answer to one award ended. */
export type AnswerKind = 'success' | 'outcomeUnknown' | 'outcomeKnown' | 'unexpected';
const ANSWER_KINDS: readonly AnswerKind[] = ['success', 'outcomeUnknown', 'outcomeKnown', 'unexpected'];
const NOT_ANSWERED = 0;

export interface Answer {
  kind: AnswerKind;
  /** The record id a success carried. */
  id?: number;
  /** The error code of any other answer. */
  code?: string;
}

export interface LedgerTally {
  issued: number;
  recorded: number;
  /** Recorded awards answered as a success with the id the upstream gave. */
  succeeded: number;
  /** Recorded awards answered as an error with outcomeUnknown: true. */
  recordedUnknown: number;
  /** Recorded awards answered otherwise (outcome known, unexpected, or not at all): lost. */
  recordedLost: number;
  /** Successes the upstream never recorded, or with another id. */
  phantom: number;
  /** Awards not recorded, by answer (`CODE (outcomeUnknown: x)`). */
  notRecorded: Map<string, number>;
  /** Recorded awards not answered as successes, by answer. */
  recordedNotSucceeded: Map<string, number>;
}

export class AwardLedger {
  private issuedCount = 0;
  private readonly recordedIds: Int32Array; // 0: not recorded
  private readonly answerKinds: Uint8Array; // index into ANSWER_KINDS + 1; 0: not answered
  private readonly answeredIds: Int32Array;
  private readonly codes = new Map<number, string>(); // only for awards answered with an error

  constructor(readonly capacity: number) {
    this.recordedIds = new Int32Array(capacity);
    this.answerKinds = new Uint8Array(capacity);
    this.answeredIds = new Int32Array(capacity);
  }

  /** A new award's number and the message that carries it; undefined once the ledger is full. */
  issue(): { award: number; message: string } | undefined {
    if (this.issuedCount >= this.capacity) return undefined;
    const award = this.issuedCount++;
    return { award, message: `${MESSAGE_PREFIX}${award}` };
  }

  /** The award number an upstream POST body carries, or undefined for anything else. */
  awardOf(body: unknown): number | undefined {
    const message = (body as { message?: unknown } | undefined)?.message;
    if (typeof message !== 'string' || !message.startsWith(MESSAGE_PREFIX)) return undefined;
    const award = Number(message.slice(MESSAGE_PREFIX.length));
    return Number.isInteger(award) && award >= 0 && award < this.issuedCount ? award : undefined;
  }

  /** The upstream created the record `id` (> 0) for this award. */
  record(award: number, id: number): void {
    this.recordedIds[award] = id;
  }

  answer(award: number, { kind, id, code }: Answer): void {
    this.answerKinds[award] = ANSWER_KINDS.indexOf(kind) + 1;
    if (id !== undefined) this.answeredIds[award] = id;
    if (code !== undefined) this.codes.set(award, code);
  }

  /** How the award's client was answered, if it was. */
  answerKindOf(award: number): AnswerKind | undefined {
    const index = this.answerKinds[award]!;
    return index === NOT_ANSWERED ? undefined : ANSWER_KINDS[index - 1];
  }

  tally(): LedgerTally {
    const tally: LedgerTally = {
      issued: this.issuedCount,
      recorded: 0,
      succeeded: 0,
      recordedUnknown: 0,
      recordedLost: 0,
      phantom: 0,
      notRecorded: new Map(),
      recordedNotSucceeded: new Map(),
    };
    const bump = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
    for (let award = 0; award < this.issuedCount; award++) {
      const recordedId = this.recordedIds[award]!;
      const kind = this.answerKindOf(award) ?? 'not answered';
      const label = kind === 'success' || kind === 'not answered' ? kind : `${this.codes.get(award) ?? 'no code'} (${kind})`;
      if (recordedId !== 0) tally.recorded++;
      if (kind === 'success') {
        if (recordedId !== 0 && this.answeredIds[award] === recordedId) tally.succeeded++;
        else tally.phantom++;
        continue;
      }
      if (recordedId === 0) {
        bump(tally.notRecorded, label);
        continue;
      }
      bump(tally.recordedNotSucceeded, label);
      if (kind === 'outcomeUnknown') tally.recordedUnknown++;
      else tally.recordedLost++;
    }
    return tally;
  }
}

/** Refusals before GraphQL (src/http/guard.ts), by HTTP status: nothing ran, the outcome is known. */
const HTTP_REFUSALS: Record<number, string> = { 503: 'SERVER_BUSY' };

/** The answer of an HTTP refusal to every award of its request, or undefined when it is not one. */
export function refusalAnswer(status: number, body: unknown): Answer | undefined {
  const { data, errors } = (body ?? {}) as { data?: unknown; errors?: { extensions?: { code?: unknown } }[] };
  const code = errors?.length === 1 ? errors[0]!.extensions?.code : undefined;
  return HTTP_REFUSALS[status] !== undefined && code === HTTP_REFUSALS[status] && data === undefined ? { kind: 'outcomeKnown', code } : undefined;
}

/** The answer a GraphQL result gives one award: the success's record id, or its error's code and outcome. */
export function answerOf(
  result: { __typename?: string; challengeHistory?: { id?: string } } | null | undefined,
  error: { extensions?: { code?: unknown; outcomeUnknown?: unknown } } | undefined,
): Answer {
  if (result?.__typename === 'AddChallengeHistorySuccess' && !error) {
    const id = Number(result.challengeHistory?.id);
    return Number.isInteger(id) && id > 0 ? { kind: 'success', id } : { kind: 'unexpected', code: 'success without a record id' };
  }
  const code = typeof error?.extensions?.code === 'string' ? error.extensions.code : result?.__typename;
  const outcomeUnknown = error?.extensions?.outcomeUnknown;
  if (typeof code === 'string' && typeof outcomeUnknown === 'boolean') {
    return { kind: outcomeUnknown ? 'outcomeUnknown' : 'outcomeKnown', code };
  }
  // A result member such as ValidationError answers with the outcome known: nothing was sent.
  if (typeof code === 'string' && result?.__typename !== undefined && !error) return { kind: 'outcomeKnown', code };
  return { kind: 'unexpected', code: code ?? 'no code' };
}

/** Prints a tally's lines (indented) and returns its failures: recorded awards lost, phantom successes. */
export function reportTally(tally: LedgerTally, print: (line: string) => void = console.log): string[] {
  print(
    `  awards: ${tally.issued} sent, ${tally.recorded} recorded by the upstream; answered: ${tally.succeeded} successes + ` +
      `${tally.recordedUnknown} outcomeUnknown = ${tally.succeeded + tally.recordedUnknown} ` +
      `(${tally.recordedLost} recorded but answered otherwise, ${tally.phantom} successes not recorded)`,
  );
  for (const [label, n] of [...tally.recordedNotSucceeded].sort((a, b) => b[1] - a[1])) print(`    recorded, answered ${label}: ${n}`);
  for (const [label, n] of [...tally.notRecorded].sort((a, b) => b[1] - a[1])) print(`    not recorded, answered ${label}: ${n}`);
  return [
    ...(tally.recordedLost > 0 ? [`${tally.recordedLost} recorded award(s) not answered as a success or outcomeUnknown`] : []),
    ...(tally.phantom > 0 ? [`${tally.phantom} success(es) the upstream did not record`] : []),
  ];
}
