// The account's projects, which several billing tabs filter by and name.
import { useMemo } from 'react';
import { api, call, type Schemas } from '../../api/client';
import { fetchAll, useLoad } from '../../lib/hooks';

export interface ProjectsProps {
  projects: Schemas['Project'][];
  /** A project's name, or its id once it is gone. */
  projectName: (id: string) => string;
}

export function useProjects() {
  const loaded = useLoad(() => fetchAll((cursor) => call(api.GET('/projects', { params: { query: { cursor, limit: 200 } } }))), []);
  const byId = useMemo(() => new Map((loaded.data ?? []).map((p) => [p.id, p])), [loaded.data]);
  return { projects: loaded.data ?? [], name: (id: string) => byId.get(id)?.name ?? id };
}
