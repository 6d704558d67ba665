// The console's row diff: rows matched by rowid (first column), counts of added, removed and changed, examples capped.

import { describe, expect, it } from 'vitest';
import { diffRows } from '../../../src/console/row-diff.ts';
import { formatPgnos } from '../../../src/console/format.ts';

describe('diffRows', () => {
  it('counts rows added, removed and changed by rowid, in the order of the rows', () => {
    const before = [
      [1, 'apple', 3],
      [2, 'pear', 5],
      [3, 'plum', 7],
    ];
    const after = [
      [1, 'apple', 3],
      [2, 'pear', 6],
      [4, 'fig', null],
      [5, { base64: 'AAE=' }, 9],
    ];
    expect(diffRows(before, after)).toEqual({
      added: 2,
      removed: 1,
      changed: 1,
      examples: {
        added: [
          [4, 'fig', null],
          [5, { base64: 'AAE=' }, 9],
        ],
        removed: [[3, 'plum', 7]],
        changed: [{ before: [2, 'pear', 5], after: [2, 'pear', 6] }],
      },
    });
  });

  it('tells a number rowid from the same digits as text, and NULL from the string "null"', () => {
    const d = diffRows(
      [
        [1, 'a'],
        ['1', 'b'],
      ],
      [
        [1, null],
        ['1', 'null'],
      ],
    );
    expect([d.added, d.removed, d.changed]).toEqual([0, 0, 2]);
  });

  it('counts everything but keeps at most `limit` examples of each', () => {
    const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => [from + i, 'x']);
    const d = diffRows(rows(0, 30), rows(10, 30), 5);
    expect([d.added, d.removed, d.changed]).toEqual([10, 10, 0]);
    expect(d.examples.added).toEqual(rows(30, 5));
    expect(d.examples.removed).toEqual(rows(0, 5));
  });

  it('finds nothing between equal sets', () => {
    expect(diffRows([[1, 'a']], [[1, 'a']])).toMatchObject({ added: 0, removed: 0, changed: 0 });
  });
});

describe('formatPgnos', () => {
  it('writes runs as ranges', () => {
    expect(formatPgnos([])).toBe('');
    expect(formatPgnos([7])).toBe('7');
    expect(formatPgnos([1, 2, 3, 7, 9, 10])).toBe('1–3, 7, 9–10');
  });
});
