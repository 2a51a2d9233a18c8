import { expect, test } from 'vitest';
import { operatorSetHeapGrowing } from '../../src/app/heap-tuning.js';

test("an operator's --heap-growing-percent, on the command line or in NODE_OPTIONS, is left as given", () => {
  expect(operatorSetHeapGrowing(['--heap-growing-percent=20'], undefined)).toBe(true);
  expect(operatorSetHeapGrowing([], '--max-old-space-size=512 --heap_growing_percent=10')).toBe(true);
  expect(operatorSetHeapGrowing(['--enable-source-maps'], '--max-old-space-size=512')).toBe(false);
  expect(operatorSetHeapGrowing([], undefined)).toBe(false);
});
