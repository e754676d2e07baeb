// Counts in words: "1 job", "2 jobs", "1 job or folder", "3 jobs or folders".

/**
 * `n` and the noun in its number: `one` for exactly 1, `many` otherwise (by default
 * `one` with an s; give it for anything else, e.g. count(n, 'rule sends', 'rules send')).
 */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}
