// A small uPlot line chart; uPlot draws to canvas, so it stays fast with many points.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
}

export function Chart({
  title,
  times,
  series,
  unit,
  max,
}: {
  title: string;
  /** Seconds since the epoch. */
  times: number[];
  series: Series[];
  unit?: string;
  max?: number;
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    // Empty axes say nothing: the card says there are no samples instead.
    if (!el || times.length === 0) return;
    const width = Math.max(320, el.clientWidth || 480);
    const opts: uPlot.Options = {
      width,
      height: 200,
      legend: { show: true },
      scales: { y: max !== undefined ? { range: [0, max] } : { range: (_u, _min, mx) => [0, Math.max(1, mx * 1.1)] } },
      axes: [{ stroke: '#7b8592' }, { stroke: '#7b8592', values: (_u, vals) => vals.map((v) => (unit ? `${v}${unit}` : String(v))) }],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, points: { show: false } }))],
    };
    const plot = new uPlot(opts, [times, ...series.map((s) => s.values)], el);
    const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(() => plot.setSize({ width: Math.max(320, el.clientWidth), height: 200 })) : null;
    ro?.observe(el);
    return () => {
      ro?.disconnect();
      plot.destroy();
    };
  }, [times, series, unit, max]);
  return (
    <div className="card chart">
      <h3>{title}</h3>
      {times.length === 0 ? <div className="empty small">No samples yet.</div> : null}
      <div ref={host} data-testid={`chart-${title}`} />
    </div>
  );
}
