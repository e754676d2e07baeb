import { api, call } from '../api/client';
import { Field, formatBytes } from '../components/ui';
import { usePaged } from '../lib/hooks';

/** Chooses one of the project's JAR artifacts (uploads are on the Artifacts page). */
export function ArtifactPicker({
  projectId,
  value,
  onChange,
  error,
  disabled,
}: {
  projectId: string;
  value: string;
  onChange: (id: string) => void;
  error?: string;
  disabled?: boolean;
}) {
  const list = usePaged(
    (cursor) => call(api.GET('/projects/{project_id}/artifacts', { params: { path: { project_id: projectId }, query: { cursor } } })),
    [projectId],
  );
  const jars = list.items.filter((a) => a.kind === 'jar' || a.id === value);
  return (
    <Field
      label="Artifact"
      error={error}
      hint={!list.loading && jars.length === 0 ? 'No JAR artifacts in this project yet: upload one through the API (POST /projects/{p}/artifacts).' : undefined}
    >
      {(p) => (
        <div className="row">
          <select {...p} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)} style={{ flex: 1 }}>
            <option value="">Choose a JAR…</option>
            {jars.map((a) => (
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
