import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from './format-bytes';

test('sizes in binary units: one decimal below 10, none above', () => {
  assert.deepEqual(
    [512, 1536, 2 * 1024 ** 3, 64 * 1024 ** 2, 25_276_063_744].map(formatBytes),
    ['512 B', '1.5 KiB', '2.0 GiB', '64 MiB', '24 GiB'],
  );
});
