import { describe, expect, it } from 'vitest';
import { count } from './plural';

describe('counts in words', () => {
  it('puts the noun in the number of the count', () => {
    expect(count(1, 'job')).toBe('1 job');
    expect(count(0, 'job')).toBe('0 jobs');
    expect(count(2, 'job or folder', 'jobs or folders')).toBe('2 jobs or folders');
    expect(count(1, 'job or folder', 'jobs or folders')).toBe('1 job or folder');
    expect(count(100000, 'record')).toBe('100,000 records');
  });
});
