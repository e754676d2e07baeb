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
import { BillingPage } from './pages/Billing';

const workspace = () => import('./pages/Workspace').then((m) => ({ Component: m.WorkspacePage }));
const deployment = () => import('./pages/Deployment').then((m) => ({ Component: m.DeploymentPage }));

export const projectRoutes: RouteObject[] = [
  { index: true, element: <Navigate to="jobs" replace /> },
  { path: 'jobs', lazy: workspace },
  { path: 'jobs/:jobId', lazy: workspace },
  { path: 'deployments', element: <DeploymentsPage /> },
  { path: 'deployments/:deploymentId', lazy: deployment },
  { path: 'members', element: <MembersPage /> },
  { path: 'artifacts', element: <NotAvailable title="Artifacts" /> },
  { path: 'connections', element: <NotAvailable title="Connections" /> },
  { path: 'alerts', element: <NotAvailable title="Alerts" /> },
  { path: 'audit', element: <NotAvailable title="Audit" /> },
  { path: '*', element: <NotAvailable title="This page" /> },
];

export const accountRoutes: RouteObject[] = [
  { index: true, element: <Navigate to="/projects" replace /> },
  { path: 'projects', element: <ProjectsPage /> },
  { path: 'billing', element: <BillingPage /> },
  { path: 'notices', element: <NotAvailable title="Notices" /> },
  { path: 'projects/:projectId', element: <ProjectLayout />, children: projectRoutes },
  { path: '*', element: <NotAvailable title="This page" /> },
];

export const routes: RouteObject[] = [{ path: '/', element: <Layout />, errorElement: <RouteError />, children: accountRoutes }];
