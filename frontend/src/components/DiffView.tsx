// Side by side: two texts with their differences marked (@codemirror/merge, fetched the
// first time a diff is shown: the editor's page loads without it).
import { useEffect, useRef, useState } from 'react';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import type { MergeView } from '@codemirror/merge';
import { baseExtensions } from './SqlEditor';
import { ErrorNote } from './ui';

export function DiffView({
  left,
  right,
  leftLabel,
  rightLabel,
  onRightChange,
}: {
  left: string;
  right: string;
  leftLabel: string;
  rightLabel: string;
  /** Makes the right side editable (merging by hand). */
  onRightChange?: (v: string) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const changeRef = useRef(onRightChange);
  changeRef.current = onRightChange;
  const editable = !!onRightChange;
  const [failed, setFailed] = useState<unknown>();
  useEffect(() => {
    const readOnly = [EditorState.readOnly.of(true), EditorView.editable.of(false)];
    // Made once the module is here, unless the view went away or changed meanwhile.
    let gone = false;
    let mv: MergeView | undefined;
    void import('@codemirror/merge').then(({ MergeView }) => {
      if (gone) return;
      mv = new MergeView({
        parent: host.current!,
        a: { doc: left, extensions: [...baseExtensions(), ...readOnly, EditorView.contentAttributes.of({ 'aria-label': leftLabel })] },
        b: {
          doc: right,
          extensions: [
            ...baseExtensions(),
            ...(editable ? [] : readOnly),
            EditorView.contentAttributes.of({ 'aria-label': rightLabel }),
            EditorView.updateListener.of((u) => {
              if (u.docChanged) changeRef.current?.(u.state.doc.toString());
            }),
          ],
        },
        highlightChanges: true,
        gutter: true,
        // Long unchanged stretches fold away so the changes are what one sees.
        collapseUnchanged: { margin: 3, minSize: 6 },
      });
    }, (e: unknown) => !gone && setFailed(e));
    return () => {
      gone = true;
      mv?.destroy();
    };
    // Remade when the compared texts change; edits on the right stay inside the view.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [left, editable ? null : right, leftLabel, rightLabel, editable]);
  return (
    <div>
      <div className="diff-heads">
        <div data-testid="diff-left-label">{leftLabel}</div>
        <div data-testid="diff-right-label">{rightLabel}</div>
      </div>
      <ErrorNote error={failed} />
      <div className="merge-host" ref={host} data-testid="diff-view" />
    </div>
  );
}
