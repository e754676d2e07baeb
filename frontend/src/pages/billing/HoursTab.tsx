// What was charged, hour by hour: compute and management per project.
import { useMemo, useState } from 'react';
import { api, call } from '../../api/client';
import { DataTable, shownRows } from '../../components/DataTable';
import { ErrorNote } from '../../components/ui';
import { formatClock, formatTime, lastDays } from '../../lib/dates';
import { money } from '../../lib/decimal';
import { useLoad, useShown } from '../../lib/hooks';
import type { ProjectsProps } from './projects';
import { CuHours, managementFeeWords } from './words';

/** `feeRule`: when the management fee is charged (GET /account/billing's `management_fee`). */
export function HoursTab({ projects, projectName, feeRule }: ProjectsProps & { feeRule?: string }) {
  const [days, setDays] = useState(2);
  const [projectId, setProjectId] = useState('');
  const range = useMemo(() => lastDays(days), [days]);
  const hours = useLoad(
    () => call(api.GET('/account/billing/hours', { params: { query: { ...range, project_id: projectId || undefined } } })),
    [range, projectId],
  );
  const page = useShown();
  // Newest first on screen; the API gives oldest first.
  const items = useMemo(() => [...(hours.data?.items ?? [])].reverse(), [hours.data]);
  return (
    <div>
      <div className="row filters">
        <label className="row">
          <span className="muted">Range</span>
          <select aria-label="Range" value={days} onChange={(e) => (setDays(Number(e.target.value)), page.reset())}>
            <option value={1}>Last day</option>
            <option value={2}>Last 2 days</option>
            <option value={7}>Last 7 days</option>
            <option value={31}>Last 31 days</option>
            <option value={61}>Last 61 days</option>
          </select>
        </label>
        <label className="row">
          <span className="muted">Project</span>
          <select aria-label="Project" value={projectId} onChange={(e) => (setProjectId(e.target.value), page.reset())}>
            <option value="">All projects</option>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <div className="spacer" />
        <span className="muted small">
          Each hour is rated once: compute (CU-hours × price) plus the management fee, each rounded half to even.
        </span>
      </div>
      <ErrorNote error={hours.error} />
      <p className="muted small" data-testid="management-fee-hours">
        {managementFeeWords(feeRule)}
      </p>
      {hours.data && (
        <div className="usage">
          <div className="item">
            <div className="muted small">Total in range</div>
            <div className="n" data-testid="hours-total">
              {money(hours.data.total, hours.data.currency)}
            </div>
          </div>
          <div className="item">
            <div className="muted small">Hours rated</div>
            <div className="n">{hours.data.items.length}</div>
          </div>
        </div>
      )}
      <DataTable
        {...shownRows(items, page)}
        loading={hours.loading}
        testId="hours"
        rowKey={(h) => h.project_id + h.window_start}
        empty="No pay-as-you-go hours in this range."
        columns={[
          {
            header: 'Hour',
            className: 'muted',
            cell: (h) => (
              <>
                {formatTime(h.window_start)} – {formatClock(h.window_end)}
              </>
            ),
          },
          { header: 'Project', cell: (h) => projectName(h.project_id) },
          { header: 'CU-hours', num: true, cell: (h) => <CuHours value={h.cu_hours} /> },
          { header: 'Compute', num: true, cell: (h) => h.compute },
          {
            header: (
              <span title={managementFeeWords(feeRule)} className="explained">
                Management fee
              </span>
            ),
            num: true,
            cell: (h) => h.management,
          },
          { header: 'Total', num: true, cell: (h) => money(h.total, h.currency) },
        ]}
      />
    </div>
  );
}
