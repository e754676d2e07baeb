// The draft changed on the server since it was opened (412): show both side by side
// and let the user keep theirs, take the server's, or merge by hand.
import { useState } from 'react';
import type { Schemas } from '../api/client';
import { DiffView } from '../components/DiffView';
import { Dialog, ErrorNote } from '../components/ui';
import { formatNumericTime } from '../lib/dates';
import { contentText } from './VersionsPanel';

type Job = Schemas['Job'];
type JobContent = Schemas['JobContent'];

export function ConflictDialog({
  mine,
  server,
  onClose,
  onTakeTheirs,
  onSave,
}: {
  mine: JobContent;
  server: Job;
  onClose: () => void;
  onTakeTheirs: () => void;
  onSave: (content: JobContent) => Promise<void>;
}) {
  const [merged, setMerged] = useState(contentText(mine));
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const editable = mine.kind === 'sql' && server.content.kind === 'sql';
  const run = async (c: JobContent) => {
    setBusy(true);
    try {
      await onSave(c);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      wide
      title="Someone else changed this job"
      onClose={onClose}
      footer={
        <>
          <button onClick={onClose}>Decide later</button>
          <button onClick={onTakeTheirs} disabled={busy}>
            Take theirs
          </button>
          <button onClick={() => void run(mine)} disabled={busy}>
            Keep mine
          </button>
          {editable && (
            <button className="primary" onClick={() => void run({ kind: 'sql', sql: merged })} disabled={busy}>
              Save merged
            </button>
          )}
        </>
      }
    >
      <p className="muted" style={{ marginTop: 0 }}>
        The draft on the server is at revision {server.revision} (updated {formatNumericTime(server.updated_at)}). Left: the server's
        version. Right: yours{editable ? ', editable: merge by hand, then “Save merged”' : ''}.
      </p>
      <DiffView
        left={contentText(server.content)}
        right={contentText(mine)}
        leftLabel="On the server"
        rightLabel="Yours"
        onRightChange={editable ? setMerged : undefined}
      />
      <ErrorNote error={error} />
    </Dialog>
  );
}
