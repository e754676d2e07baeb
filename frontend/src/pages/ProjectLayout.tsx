import { Link, Outlet, useLocation, useNavigate, useParams } from 'react-router';
import { api, call } from '../api/client';
import { ErrorNote } from '../components/ui';
import { fetchAll, useLoad } from '../lib/hooks';
import { ProjectProvider } from '../project';
import './ProjectLayout.css';

/**
 * Loads the project once for every page inside it, with the caller's effective role
 * there (the API's `my_role`: account admins act as owners, narrowed tokens as at most
 * their role), which decides the actions each page shows. Above the page it names the
 * project, with a switcher to the account's other projects.
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
      <div className="project-frame">
        <ProjectBar projectId={projectId} name={loaded.data.project.name} />
        <div className="project-page">
          <Outlet />
        </div>
      </div>
    </ProjectProvider>
  );
}

/**
 * The project's name, and the account's other projects to go to: the same section of
 * the other project (its Deployments for a deployment, its Jobs for a job).
 */
function ProjectBar({ projectId, name }: { projectId: string; name: string }) {
  const navigate = useNavigate();
  const { pathname } = useLocation();
  // Without the switcher the name still shows: the list is the account's, loaded apart.
  const projects = useLoad(() => fetchAll((cursor) => call(api.GET('/projects', { params: { query: { cursor, limit: 200 } } }))), []);
  const section = pathname.split('/')[3] || 'jobs';
  const others = (projects.data ?? []).filter((p) => p.id !== projectId);
  return (
    <div className="project-bar" data-testid="project-bar">
      <Link to="/projects" className="muted small">
        Projects
      </Link>
      <span className="muted small" aria-hidden="true">
        /
      </span>
      {others.length > 0 ? (
        <select aria-label="Project" value={projectId} onChange={(e) => navigate(`/projects/${e.target.value}/${section}`)}>
          {/* The current one even before the list comes (or if it does not). */}
          {!projects.data?.some((p) => p.id === projectId) && <option value={projectId}>{name}</option>}
          {(projects.data ?? []).map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      ) : (
        <strong data-testid="project-name">{name}</strong>
      )}
    </div>
  );
}
