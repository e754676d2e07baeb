import { loginUrl } from '../api/client';

/** What an unauthenticated visitor sees; signing in is the provider's OIDC flow. */
export function SignInPage() {
  // Come back to the page the visitor asked for.
  const here = window.location.pathname + window.location.search;
  return (
    <div className="signin">
      <div className="card">
        <h1>Sluice</h1>
        <p>The managed Apache Flink console</p>
        <a className="button primary" href={loginUrl(here || '/')}>
          Sign in
        </a>
      </div>
    </div>
  );
}
