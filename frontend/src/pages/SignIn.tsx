import { loginUrl } from '../api/client';

/** What each sign-in failure means for the person, by the code the server sends back
 * (only the code travels in the URL, so a crafted link cannot put its own words here). */
const FAILURES: Record<string, string> = {
  email_not_verified:
    'Your identity provider has not verified your email address. Verify it there, then sign in again.',
  sign_in_elsewhere: 'This sign-in was started in another browser. Start it again here.',
  login_failed: 'The sign-in expired, was already used, or was refused by the identity provider. Start it again.',
  identity_provider_unavailable: 'The identity provider could not be reached. Try again in a moment.',
  sign_in_misconfigured: 'Sign-in is misconfigured on this server. Tell the people who run it.',
  sign_in_disabled: 'Sign-in is not set up on this server.',
};

/** What an unauthenticated visitor sees; signing in is the provider's OIDC flow. A
 * sign-in that failed comes back here with `sign_in_error`, said in words with a way to
 * try again. */
export function SignInPage() {
  const failed = new URLSearchParams(window.location.search).get('sign_in_error');
  const message = failed ? (FAILURES[failed] ?? 'The sign-in did not complete. Start it again.') : undefined;
  // Come back to the page the visitor asked for (after a failure, the start page).
  const here = failed ? '/' : window.location.pathname + window.location.search;
  return (
    <div className="signin">
      <div className="card">
        <h1>Sluice</h1>
        <p>The managed Apache Flink console</p>
        {message && (
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
