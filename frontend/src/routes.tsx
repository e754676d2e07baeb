// Every route of the console, in one place. To add a page: import it here and put it
// under the account routes or the project routes; sections still missing say so.
import type { RouteObject } from 'react-router';
import { Navigate } from 'react-router';
import { Layout } from './components/Layout';
import { NotAvailable } from './components/ui';
import { ProjectsPage } from './pages/Projects';
import { ProjectLayout } from './pages/ProjectLayout';
import { WorkspacePage } from './pages/Workspace';
import { DeploymentsPage } from './pages/Deployments';
import { DeploymentPage } from './pages/Deployment';
import { MembersPage } from './pages/Members';
import { BillingPage } from './pages/Billing';

export const projectRoutes: RouteObject[] = [
  { index: true, element: <Navigate to="jobs" replace /> },
  { path: 'jobs', element: <WorkspacePage /> },
  { path: 'jobs/:jobId', element: <WorkspacePage /> },
  { path: 'deployments', element: <DeploymentsPage /> },
  { path: 'deployments/:deploymentId', element: <DeploymentPage /> },
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

export const routes: RouteObject[] = [{ path: '/', element: <Layout />, children: accountRoutes }];
