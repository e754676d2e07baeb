// Every route of the console, in one place. To add a page: put it under the account
// routes or the project routes below. Pages that pull in heavy libraries (CodeMirror,
// uPlot) load on first visit with `lazy`, so signing in and the lists stay light.
import type { RouteObject } from 'react-router';
import { Navigate } from 'react-router';
import { Layout } from './components/Layout';
import { NotAvailable, RouteError } from './components/ui';
import { ProjectsPage } from './pages/Projects';
import { ProjectLayout } from './pages/ProjectLayout';
import { DeploymentsPage } from './pages/Deployments';
import { MembersPage } from './pages/Members';
import { ArtifactsPage } from './pages/Artifacts';
import { ConnectionsPage } from './pages/Connections';
import { AlertsPage } from './pages/Alerts';
import { AuditPage } from './pages/Audit';
import { NoticesPage } from './pages/Notices';
import { NotificationChannelsPage } from './pages/NotificationChannels';

const workspace = () => import('./pages/Workspace').then((m) => ({ Component: m.WorkspacePage }));
const billing = () => import('./pages/Billing').then((m) => ({ Component: m.BillingPage }));
const deployment = () => import('./pages/Deployment').then((m) => ({ Component: m.DeploymentPage }));

export const projectRoutes: RouteObject[] = [
  { index: true, element: <Navigate to="jobs" replace /> },
  { path: 'jobs', lazy: workspace },
  { path: 'jobs/:jobId', lazy: workspace },
  { path: 'deployments', element: <DeploymentsPage /> },
  { path: 'deployments/:deploymentId', lazy: deployment },
  { path: 'members', element: <MembersPage /> },
  { path: 'artifacts', element: <ArtifactsPage /> },
  { path: 'connections', element: <ConnectionsPage /> },
  { path: 'alerts', element: <AlertsPage /> },
  { path: 'audit', element: <AuditPage /> },
  { path: '*', element: <NotAvailable title="This page" /> },
];

export const accountRoutes: RouteObject[] = [
  { index: true, element: <Navigate to="/projects" replace /> },
  { path: 'projects', element: <ProjectsPage /> },
  { path: 'billing', lazy: billing },
  { path: 'notices', element: <NoticesPage /> },
  { path: 'audit', element: <AuditPage /> },
  { path: 'channels', element: <NotificationChannelsPage /> },
  { path: 'projects/:projectId', element: <ProjectLayout />, children: projectRoutes },
  { path: '*', element: <NotAvailable title="This page" /> },
];

export const routes: RouteObject[] = [{ path: '/', element: <Layout />, errorElement: <RouteError />, children: accountRoutes }];
