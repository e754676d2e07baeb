import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import { NoticesPage } from './Notices';
import { mockApi } from '../test/mockApi';
import { renderInProject } from '../test/providers';

describe('the engine versions tab', () => {
  it('spells out the lifecycle stages it names: in a legend, on the headers and on each stage', async () => {
    mockApi({
      'GET /notices': () => ({ body: { unread: 0, items: [] } }),
      'GET /engine-versions': () => ({
        body: [
          {
            label: '1.0.0', flink_version: '2.3.0', stage: 'EOFS', pulled: false, upgrade_to: '1.0.3', upgrade_needs_review: false,
            ga: '2026-01-01T00:00:00Z', eogs: '2026-07-01T00:00:00Z', eofs: '2026-10-01T00:00:00Z', eos: '2027-01-01T00:00:00Z',
          },
        ],
      }),
    });
    renderInProject(<NoticesPage />, { path: '/notices?tab=engines', pattern: '/notices' });
    const legend = await screen.findByTestId('stage-legend');
    expect(legend.textContent).toContain('EOGSend of general support: no new features from then on.');
    expect(legend.textContent).toContain('EOFSend of full support: no support either: upgrade advised.');
    expect(legend.textContent).toContain('EOSend of service: retired');

    const table = screen.getByTestId('engine-versions');
    const header = within(table).getByText('EOFS', { selector: 'abbr' });
    expect(header.getAttribute('title')).toBe('end of full support: no support either: upgrade advised');
    const row = (await within(table).findByText('1.0.0')).closest('tr')!;
    expect(within(row).getByTestId('badge').getAttribute('title')).toBe('EOFS: end of full support, no support either: upgrade advised');
    expect(row.textContent).toContain('end of full support');
  });
});
