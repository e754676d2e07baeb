import { describe, expect, it } from 'vitest';
import { nameProblem } from './names';

// The same cases as the server's own test of Name::parse (store/src/names.rs).
describe("the server's rule for names", () => {
  it('takes what the server takes', () => {
    for (const ok of ['orders etl', '日本語の名前', 'kafka.prod', 'x'.repeat(128), '  padded  ']) expect(nameProblem(ok)).toBeUndefined();
  });
  it('refuses what the server refuses, in words', () => {
    expect(nameProblem('')).toBe('Enter a name.');
    expect(nameProblem('   ')).toBe('Enter a name.');
    expect(nameProblem('a\u0007b')).toMatch(/control characters/);
    expect(nameProblem('tab\there')).toMatch(/control characters/);
    expect(nameProblem('a/b')).toBe('A name cannot contain / or \\.');
    expect(nameProblem('a\\b')).toBe('A name cannot contain / or \\.');
    expect(nameProblem('x'.repeat(129))).toBe('At most 128 characters; this is 129.');
    // Counted as the server counts: characters, not UTF-16 units.
    expect(nameProblem('😀'.repeat(128))).toBeUndefined();
  });
});
