// The circuit breaker's state machine on a controlled clock: what opens it, what never does,
// half-open's bounded trials (reads first), and one transition report per change.

import { describe, expect, test } from 'vitest';
import { CircuitBreaker, HALF_OPEN_TRIALS, READS_FIRST_MS } from '../../src/upstream/breaker.js';
import type { BreakerTransition } from '../../src/upstream/breaker.js';

function breaker(settings = { failures: 3, windowMs: 1000, openMs: 5000 }) {
  let now = 0;
  const transitions: BreakerTransition[] = [];
  const b = new CircuitBreaker(settings, (t) => transitions.push(t), () => now);
  return { b, transitions, advance: (ms: number) => (now += ms) };
}

/** One admitted call that ends with `health`. */
function call(b: CircuitBreaker, health: 'answered' | 'unwell' | 'not_sent', method: 'GET' | 'POST' = 'GET') {
  const admission = b.admit(method);
  if (admission !== 'refused') b.settle(admission, health);
  return admission;
}

describe('CircuitBreaker', () => {
  test('N unwell calls within the window open it; spread wider than the window they do not', () => {
    const { b, transitions, advance } = breaker();
    call(b, 'unwell');
    advance(600);
    call(b, 'unwell');
    advance(600);
    call(b, 'unwell'); // the first is 1200 ms old: only 2 within the window
    expect(b.state).toBe('closed');
    advance(10);
    call(b, 'unwell'); // 3 within 1000 ms
    expect(b.state).toBe('open');
    expect(transitions).toEqual([{ from: 'closed', to: 'open', failures: 3 }]);
    expect(b.admit('GET')).toBe('refused');
    expect(b.admit('POST')).toBe('refused');
    expect(b.retryInMs).toBe(5000);
  });

  test('answers (any 4xx) and calls never sent do not count', () => {
    const { b } = breaker();
    for (let i = 0; i < 100; i++) call(b, i % 2 ? 'answered' : 'not_sent');
    expect(b.state).toBe('closed');
  });

  test('half-open: bounded trials, reads first; a trial answered closes it, a trial failing reopens it', () => {
    const { b, transitions, advance } = breaker();
    for (let i = 0; i < 3; i++) call(b, 'unwell');
    advance(5000);
    expect(b.state).toBe('half_open');
    // A write waits while reads may test the water.
    expect(b.admit('POST')).toBe('refused');
    const trials = Array.from({ length: HALF_OPEN_TRIALS }, () => b.admit('GET'));
    expect(trials.every((t) => t === 'trial')).toBe(true);
    expect(b.admit('GET')).toBe('refused'); // bounded
    b.settle('trial', 'unwell');
    expect(b.state).toBe('open');
    b.settle('trial', 'answered'); // late: the state was decided by the first
    expect(b.state).toBe('open');

    advance(5000 + READS_FIRST_MS);
    expect(b.admit('POST')).toBe('refused'); // half-open just began: reads first
    advance(READS_FIRST_MS);
    const trial = b.admit('POST'); // no read came: a write may be the trial
    expect(trial).toBe('trial');
    b.settle(trial, 'answered');
    expect(b.state).toBe('closed');
    expect(b.admit('POST')).toBe('normal');
    expect(transitions.map((t) => t.to)).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
    // Closed again: it takes N new failures to open.
    call(b, 'unwell');
    call(b, 'unwell');
    expect(b.state).toBe('closed');
  });
});

test('a busy upstream failing a small share of calls never opens it, however many failures that is', () => {
  const { b, advance } = breaker({ failures: 3, windowMs: 1000, openMs: 5000 });
  for (let i = 0; i < 1000; i++) {
    call(b, i % 10 === 0 ? 'unwell' : 'answered'); // 10% failing: 100 failures within the window
    advance(0.5);
  }
  expect(b.state).toBe('closed');
  for (let i = 0; i < 1000; i++) call(b, 'unwell'); // then it really fails
  expect(b.state).toBe('open');
});
