// Every route of the console, in one place. To add a page: put it under the account
// routes or the project routes below. Every page but the project list loads on first
// visit with `lazy`, so the first load carries only the shell, the client and the page
// shown (CodeMirror and uPlot come with the pages that use them).
import type { RouteObject } from 'react-router';
import { Navigate } from 'react-router';
import { Layout } from './components/Layout';
import { NotAvailable, RouteError } from './components/ui';
import { ProjectsPage } from './pages/Projects';
import { ProjectLayout } from './pages/ProjectLayout';

const workspace = () => import('./pages/Workspace').then((m) => ({ Component: m.WorkspacePage }));
const billing = () => import('./pages/Billing').then((m) => ({ Component: m.BillingPage }));
const deployment = () => import('./pages/Deployment').then((m) => ({ Component: m.DeploymentPage }));
const deployments = () => import('./pages/Deployments').then((m) => ({ Component: m.DeploymentsPage }));
const members = () => import('./pages/Members').then((m) => ({ Component: m.MembersPage }));
const artifacts = () => import('./pages/Artifacts').then((m) => ({ Component: m.ArtifactsPage }));
const connections = () => import('./pages/Connections').then((m) => ({ Component: m.ConnectionsPage }));
const alerts = () => import('./pages/Alerts').then((m) => ({ Component: m.AlertsPage }));
const audit = () => import('./pages/Audit').then((m) => ({ Component: m.AuditPage }));
const notices = () => import('./pages/Notices').then((m) => ({ Component: m.NoticesPage }));
const channels = () => import('./pages/NotificationChannels').then((m) => ({ Component: m.NotificationChannelsPage }));
const clusters = () => import('./pages/Clusters').then((m) => ({ Component: m.ClustersPage }));

export const projectRoutes: RouteObject[] = [
  { index: true, element: <Navigate to="jobs" replace /> },
  { path: 'jobs', lazy: workspace },
  { path: 'jobs/:jobId', lazy: workspace },
  { path: 'deployments', lazy: deployments },
  { path: 'deployments/:deploymentId', lazy: deployment },
  { path: 'members', lazy: members },
  { path: 'artifacts', lazy: artifacts },
  { path: 'connections', lazy: connections },
  { path: 'alerts', lazy: alerts },
  { path: 'audit', lazy: audit },
  { path: '*', element: <NotAvailable title="This page" /> },
];

export const accountRoutes: RouteObject[] = [
  { index: true, element: <Navigate to="/projects" replace /> },
  { path: 'projects', element: <ProjectsPage /> },
  { path: 'billing', lazy: billing },
  { path: 'notices', lazy: notices },
  { path: 'audit', lazy: audit },
  { path: 'channels', lazy: channels },
  { path: 'clusters', lazy: clusters },
  { path: 'projects/:projectId', element: <ProjectLayout />, children: projectRoutes },
  { path: '*', element: <NotAvailable title="This page" /> },
];

export const routes: RouteObject[] = [{ path: '/', element: <Layout />, errorElement: <RouteError />, children: accountRoutes }];
