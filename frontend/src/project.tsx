// The project a page is in, and the caller's role there.
import { createContext, useContext } from 'react';
import type { Schemas } from './api/client';
import type { ProjectRole } from './session';

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
