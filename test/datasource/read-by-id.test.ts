// The generic read-by-id loader on its own: one read per distinct id, each id's failure its own,
// at most the limit's size of reads at once. (challenge-loader.test.ts runs its challenge instance
// through the gateway against a real upstream.)

import { expect, test } from 'vitest';
import { concurrencyLimit } from '../../src/datasource/fan-out.js';
import { createReadByIdLoader } from '../../src/datasource/read-by-id.js';
import { eventually, gate } from '../support/operations.js';

test('repeated ids are read once; a failing id rejects only its own loads', async () => {
  const reads: number[] = [];
  const loader = createReadByIdLoader(async (id) => {
    reads.push(id);
    if (id === 3) throw new Error('upstream said no');
    return id === 4 ? null : { id };
  }, concurrencyLimit(8));
  const results = await Promise.allSettled([1, 2, 1, 3, 4, 2].map((id) => loader.load(id)));
  expect(reads.sort()).toEqual([1, 2, 3, 4]);
  expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
    { id: 1 }, { id: 2 }, { id: 1 }, 'upstream said no', null, { id: 2 },
  ]);
});

test("no more reads run at once than the limit's size", async () => {
  const held = gate();
  let running = 0;
  let most = 0;
  const loader = createReadByIdLoader(async (id) => {
    running++;
    most = Math.max(most, running);
    await held.opened;
    running--;
    return id;
  }, concurrencyLimit(2));
  const all = Promise.all([1, 2, 3, 4, 5].map((id) => loader.load(id)));
  await eventually(() => running === 2);
  held.open();
  expect(await all).toEqual([1, 2, 3, 4, 5]);
  expect(most).toBe(2);
});
