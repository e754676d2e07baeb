import { Outlet, useParams } from 'react-router';
import { api, call } from '../api/client';
import { ErrorNote } from '../components/ui';
import { useLoad } from '../lib/hooks';
import { ProjectProvider, myProjectRole } from '../project';
import { useSession } from '../session';

/** Loads the project and the caller's role once for every page inside it. */
export function ProjectLayout() {
  const { projectId = '' } = useParams();
  const { me, account } = useSession();
  const loaded = useLoad(async () => {
    const [project, role] = await Promise.all([
      call(api.GET('/projects/{project_id}', { params: { path: { project_id: projectId } } })),
      myProjectRole(projectId, me, account),
    ]);
    return { project, role };
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
