import { Link } from 'react-router';
import { api, call } from '../api/client';
import { Field, formatBytes } from '../components/ui';
import { usePaged } from '../lib/hooks';

/** What a job runs from an artifact: a JAR program or a PyFlink script. */
export type ProgramKind = 'jar' | 'python';

const WORDS: Record<ProgramKind, { one: string; choose: string; file: string }> = {
  jar: { one: 'JAR', choose: 'Choose a JAR…', file: '.jar' },
  python: { one: 'Python', choose: 'Choose a Python script…', file: '.py' },
};

/** Chooses one of the project's JAR (or Python) artifacts; uploads are on the Artifacts page. */
export function ArtifactPicker({
  projectId,
  value,
  onChange,
  error,
  disabled,
  kind = 'jar',
}: {
  projectId: string;
  value: string;
  onChange: (id: string) => void;
  error?: string;
  disabled?: boolean;
  kind?: ProgramKind;
}) {
  const list = usePaged(
    (cursor) => call(api.GET('/projects/{project_id}/artifacts', { params: { path: { project_id: projectId }, query: { cursor } } })),
    [projectId],
  );
  const words = WORDS[kind];
  const offered = list.items.filter((a) => a.kind === kind || a.id === value);
  return (
    <Field
      label="Artifact"
      error={error}
      hint={
        !list.loading && !list.hasMore && offered.length === 0 ? (
          <>
            No {words.one} artifacts in this project yet: upload a {words.file} file on the{' '}
            <Link to={`/projects/${encodeURIComponent(projectId)}/artifacts`}>Artifacts page</Link>.
          </>
        ) : undefined
      }
    >
      {(p) => (
        <div className="row">
          <select {...p} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)} style={{ flex: 1 }}>
            <option value="">{words.choose}</option>
            {offered.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name} ({formatBytes(a.size_bytes)}, {a.sha256.slice(0, 8)})
              </option>
            ))}
          </select>
          {list.hasMore && (
            <button type="button" onClick={() => void list.loadMore()}>
              More
            </button>
          )}
        </div>
      )}
    </Field>
  );
}
