// The project a page is in, and the caller's role there.
import { createContext, useContext } from 'react';
import { api, call, type Schemas } from './api/client';
import { fetchAll } from './lib/hooks';
import type { Me, Account, ProjectRole } from './session';

export type ProjectDetail = Schemas['ProjectDetail'];

export interface ProjectValue {
  project: ProjectDetail;
  role: ProjectRole | undefined;
  reload: () => Promise<void>;
}

const ProjectContext = createContext<ProjectValue | null>(null);
export const ProjectProvider = ProjectContext.Provider;

export function useProject(): ProjectValue {
  const v = useContext(ProjectContext);
  if (!v) throw new Error('useProject outside a project route');
  return v;
}

/**
 * The caller's role in a project. The API has no "my role here" field, so: account
 * admins and owners act as owners of every project (README, Roles); anyone else has
 * the role their project membership says.
 */
export async function myProjectRole(projectId: string, me: Me, account: Account): Promise<ProjectRole | undefined> {
  if (account.role === 'owner' || account.role === 'admin') return 'owner';
  const members = await fetchAll((cursor) =>
    call(api.GET('/projects/{project_id}/members', { params: { path: { project_id: projectId }, query: { cursor } } })),
  );
  return members.find((m) => m.user_id === me.user_id)?.role;
}
