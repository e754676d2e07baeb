// Renders a page as it runs inside the console: signed in (with an account role), in a
// project (with a project role), under a router.
import type { ReactNode } from 'react';
import { render } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import type { Schemas } from '../api/client';
import { ProjectProvider } from '../project';
import { SessionContextProvider, type ProjectRole } from '../session';

export const LIMITS: Schemas['Limits'] = {
  projects_per_account: 20,
  jobs_per_project: 100,
  folders_per_project: 100,
  folder_depth: 5,
  entries_per_folder: 500,
  artifacts_per_project: 200,
  connections_per_project: 50,
  versions_per_job: 20,
  artifact_bytes: 209_715_200,
  concurrent_debug_runs: 1,
};

export function renderInProject(
  ui: ReactNode,
  { accountRole = 'owner', projectRole = 'owner', path = '/projects/p1/x', pattern = '/projects/:projectId/x' }: {
    accountRole?: Schemas['AccountRole'];
    projectRole?: ProjectRole;
    path?: string;
    pattern?: string;
  } = {},
) {
  const me: Schemas['Me'] = {
    user_id: 'u1',
    email: 'ann@example.com',
    display_name: 'Ann',
    account_id: 'a1',
    accounts: [{ id: 'a1', name: 'Acme', role: accountRole } as Schemas['MyAccount']],
  };
  const account: Schemas['Account'] = {
    id: 'a1',
    name: 'Acme',
    plan: 'standard',
    limits: LIMITS,
    usage: { projects: 1 } as Schemas['AccountUsage'],
    role: accountRole,
    created_at: '2026-12-01T00:00:00Z',
  };
  const project: Schemas['ProjectDetail'] = {
    id: 'p1',
    name: 'analytics',
    description: '',
    default_cluster_id: null,
    created_at: '2026-12-01T00:00:00Z',
    updated_at: '2026-12-01T00:00:00Z',
    limits: LIMITS,
    usage: { jobs: 0, folders: 0, connections: 0, artifacts: 0 },
    my_role: projectRole,
  };
  const router = createMemoryRouter(
    [
      {
        path: pattern,
        element: (
          <SessionContextProvider value={{ me, account, reload: async () => {}, switchAccount: async () => {}, signOut: async () => {} }}>
            <ProjectProvider value={{ project, role: projectRole, reload: async () => {} }}>{ui}</ProjectProvider>
          </SessionContextProvider>
        ),
      },
    ],
    { initialEntries: [path] },
  );
  return render(<RouterProvider router={router} />);
}
