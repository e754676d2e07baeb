import { loginUrl } from '../api/client';

/** What an unauthenticated visitor sees; signing in is the provider's OIDC flow. A
 * sign-in that failed comes back here with `sign_in_error` and `message`, said in words
 * with a way to try again. */
export function SignInPage() {
  const params = new URLSearchParams(window.location.search);
  const failed = params.get('sign_in_error');
  const message = params.get('message') ?? 'The sign-in did not complete.';
  // Come back to the page the visitor asked for (after a failure, the start page).
  const here = failed ? '/' : window.location.pathname + window.location.search;
  return (
    <div className="signin">
      <div className="card">
        <h1>Sluice</h1>
        <p>The managed Apache Flink console</p>
        {failed && (
          <div role="alert" className="signin-error">
            <h2>Sign-in did not complete</h2>
            <p>{message}</p>
          </div>
        )}
        <a className="button primary" href={loginUrl(here || '/')}>
          {failed ? 'Try again' : 'Sign in'}
        </a>
      </div>
    </div>
  );
}
