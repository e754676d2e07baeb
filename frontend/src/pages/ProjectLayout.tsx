import { Outlet, useParams } from 'react-router';
import { api, call } from '../api/client';
import { ErrorNote } from '../components/ui';
import { useLoad } from '../lib/hooks';
import { ProjectProvider } from '../project';

/**
 * Loads the project once for every page inside it, with the caller's effective role
 * there (the API's `my_role`: account admins act as owners, narrowed tokens as at most
 * their role), which decides the actions each page shows.
 */
export function ProjectLayout() {
  const { projectId = '' } = useParams();
  const loaded = useLoad(async () => {
    const project = await call(api.GET('/projects/{project_id}', { params: { path: { project_id: projectId } } }));
    return { project, role: project.my_role };
  }, [projectId]);
  if (loaded.error)
    return (
      <div className="page">
        <ErrorNote error={loaded.error} />
      </div>
    );
  if (!loaded.data) return <div className="empty">Loading project…</div>;
  return (
    <ProjectProvider value={{ ...loaded.data, reload: loaded.reload }}>
      <Outlet />
    </ProjectProvider>
  );
}
