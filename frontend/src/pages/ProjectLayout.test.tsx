import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { createMemoryRouter, RouterProvider, useParams } from 'react-router';
import { ProjectLayout } from './ProjectLayout';
import { mockApi } from '../test/mockApi';
import { LIMITS } from '../test/providers';

const AT = '2026-12-01T00:00:00Z';
const PROJECTS = [
  { id: 'p1', name: 'analytics', description: '', created_at: AT, updated_at: AT },
  { id: 'p2', name: 'payments', description: '', created_at: AT, updated_at: AT },
];

function server(projects = PROJECTS) {
  return mockApi({
    'GET /projects': () => ({ body: { items: projects, next_cursor: null } }),
    'GET /projects/{p}': (r) => {
      const p = projects.find((x) => r.path.endsWith('/' + x.id))!;
      return { body: { ...p, default_cluster_id: null, limits: LIMITS, usage: { jobs: 0, folders: 0, connections: 0, artifacts: 0 }, my_role: 'owner' } };
    },
  });
}

function Page({ what }: { what: string }) {
  const { projectId } = useParams();
  return <div data-testid="page">{`${what} of ${projectId}`}</div>;
}

function renderAt(path: string) {
  const router = createMemoryRouter(
    [
      {
        path: '/projects/:projectId',
        element: <ProjectLayout />,
        children: [
          { path: 'deployments', element: <Page what="deployments" /> },
          { path: 'deployments/:deploymentId', element: <Page what="a deployment" /> },
        ],
      },
    ],
    { initialEntries: [path] },
  );
  render(<RouterProvider router={router} />);
  return router;
}

describe("the project's frame", () => {
  it("names the project and switches to another project's same section", async () => {
    server();
    const router = renderAt('/projects/p1/deployments/d1');
    expect((await screen.findByTestId('page')).textContent).toBe('a deployment of p1');
    const bar = screen.getByTestId('project-bar');
    const switcher = (await within(bar).findByRole('combobox', { name: 'Project' })) as HTMLSelectElement;
    await waitFor(() => expect([...switcher.options].map((o) => o.textContent)).toEqual(['analytics', 'payments']));
    expect(switcher.selectedOptions[0]!.textContent).toBe('analytics');

    fireEvent.change(switcher, { target: { value: 'p2' } });
    // The other project's Deployments: a deployment's id means nothing there.
    await waitFor(() => expect(router.state.location.pathname).toBe('/projects/p2/deployments'));
    await waitFor(() => expect(screen.getByTestId('page').textContent).toBe('deployments of p2'));
    expect(switcher.selectedOptions[0]!.textContent).toBe('payments');
  });

  it('names the only project without a switcher', async () => {
    server(PROJECTS.slice(0, 1));
    renderAt('/projects/p1/deployments');
    await screen.findByTestId('page');
    await waitFor(() => expect(screen.getByTestId('project-name').textContent).toBe('analytics'));
    expect(screen.queryByRole('combobox', { name: 'Project' })).toBeNull();
  });
});
