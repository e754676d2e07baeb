import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { routes } from './routes';
import { SessionProvider } from './session';
import { SignInPage } from './pages/SignIn';
import './styles.css';

const router = createBrowserRouter(routes);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SessionProvider signedOut={<SignInPage />}>
      <RouterProvider router={router} />
    </SessionProvider>
  </StrictMode>,
);
