// The server's rule for the names of projects, folders, jobs, connections, artifacts,
// deployments, contact groups and the rest (store/src/names.rs `Name::parse`): 1 to 128
// characters, no control characters, no `/` or `\`, no white space at either end.
// Spaces inside a name, dots and any letters are fine. The console sends names
// trimmed, so the ends are never the problem.

/** At most this many characters (Unicode code points, as the server counts). */
export const MAX_NAME_CHARS = 128;

/** What the server would refuse in `raw` as a name (trimmed first), in words; nothing if it takes it. */
export function nameProblem(raw: string): string | undefined {
  const name = raw.trim();
  const chars = [...name].length;
  if (!name) return 'Enter a name.';
  if (chars > MAX_NAME_CHARS) return `At most ${MAX_NAME_CHARS} characters; this is ${chars}.`;
  if (/\p{Cc}/u.test(name)) return 'A name cannot contain control characters such as tabs or line breaks.';
  if (/[/\\]/.test(name)) return 'A name cannot contain / or \\.';
  return undefined;
}

/** The rule in one line, for a hint under a name field. */
export const NAME_RULE = `Up to ${MAX_NAME_CHARS} characters: spaces, dots and any letters are fine; / and \\ are not.`;
