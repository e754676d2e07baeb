// The project workspace: the folder tree on the left, the open job on the right.
import { useCallback } from 'react';
import { useParams } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { ErrorNote } from '../components/ui';
import { fetchAll, useLoad } from '../lib/hooks';
import { useProject } from '../project';
import { atLeast } from '../session';
import { FolderTree } from './FolderTree';
import { JobEditor } from './JobEditor';

export function WorkspacePage() {
  const { projectId = '', jobId } = useParams();
  const { project, role } = useProject();
  const canWrite = atLeast(role, 'editor');
  const tree = useLoad(async () => {
    const path = { project_id: projectId };
    const [folders, jobs] = await Promise.all([
      fetchAll((cursor) => call(api.GET('/projects/{project_id}/folders', { params: { path, query: { cursor, limit: 200 } } }))),
      fetchAll((cursor) => call(api.GET('/projects/{project_id}/jobs', { params: { path, query: { cursor, limit: 200 } } }))),
    ]);
    return { folders, jobs };
  }, [projectId]);
  const job = tree.data?.jobs.find((j) => j.id === jobId);
  const onJobChanged = useCallback(
    (j: Schemas['Job']) => {
      if (tree.data) tree.set({ ...tree.data, jobs: tree.data.jobs.map((x) => (x.id === j.id ? j : x)) });
    },
    [tree],
  );
  return (
    <div className="page full">
      <div className="workspace">
        <FolderTree
          projectId={projectId}
          folders={tree.data?.folders ?? []}
          jobs={tree.data?.jobs ?? []}
          selectedJobId={jobId}
          canWrite={canWrite}
          onChanged={tree.reload}
        />
        <section className="editor-pane" aria-label="Job">
          <ErrorNote error={tree.error} />
          {job ? (
            <JobEditor
              key={job.id}
              projectId={projectId}
              initial={job}
              canWrite={canWrite}
              onJobChanged={onJobChanged}
              defaultClusterId={project.default_cluster_id}
            />
          ) : (
            <div className="page">
              <div className="crumbs">Project</div>
              <h1>{project.name}</h1>
              <p className="muted">{project.description}</p>
              <div className="usage">
                <div className="item">
                  <div className="muted small">Jobs</div>
                  <div className="n">
                    {project.usage.jobs} / {project.limits.jobs_per_project}
                  </div>
                </div>
                <div className="item">
                  <div className="muted small">Folders</div>
                  <div className="n">
                    {project.usage.folders} / {project.limits.folders_per_project}
                  </div>
                </div>
                <div className="item">
                  <div className="muted small">Artifacts</div>
                  <div className="n">
                    {project.usage.artifacts} / {project.limits.artifacts_per_project}
                  </div>
                </div>
                <div className="item">
                  <div className="muted small">Connections</div>
                  <div className="n">
                    {project.usage.connections} / {project.limits.connections_per_project}
                  </div>
                </div>
              </div>
              {jobId && !tree.loading && <div className="alert warn">That job no longer exists.</div>}
              <p className="muted">{canWrite ? 'Pick a job on the left, or create one with “+ Job”.' : 'Pick a job on the left to read it.'}</p>
            </div>
          )}
        </section>
      </div>
    </div>
  );
}
