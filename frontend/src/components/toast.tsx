// Passing notes ("Saved version 3") that don't need a place on the page.
import { useEffect, useState } from 'react';

type Toast = { id: number; text: string; kind: 'info' | 'error' };
let listeners: ((t: Toast) => void)[] = [];
let next = 1;

export function toast(text: string, kind: Toast['kind'] = 'info'): void {
  const t = { id: next++, text, kind };
  listeners.forEach((l) => l(t));
}

export function ToastArea() {
  const [items, setItems] = useState<Toast[]>([]);
  useEffect(() => {
    const l = (t: Toast) => {
      setItems((old) => [...old, t]);
      setTimeout(() => setItems((old) => old.filter((o) => o.id !== t.id)), 5000);
    };
    listeners.push(l);
    return () => {
      listeners = listeners.filter((x) => x !== l);
    };
  }, []);
  return (
    <div className="toast-area" aria-live="polite">
      {items.map((t) => (
        <div key={t.id} className={'toast ' + t.kind}>
          {t.text}
        </div>
      ))}
    </div>
  );
}
