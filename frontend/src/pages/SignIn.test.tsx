import { afterEach, describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { SignInPage } from './SignIn';

afterEach(() => window.history.replaceState(null, '', '/'));

describe('SignInPage', () => {
  it('offers to sign in, coming back to the page asked for', () => {
    window.history.replaceState(null, '', '/billing?tab=bills');
    render(<SignInPage />);
    expect(screen.queryByRole('alert')).toBeNull();
    const link = screen.getByRole('link', { name: 'Sign in' });
    expect(link.getAttribute('href')).toBe('/api/v1/auth/login?return_to=%2Fbilling%3Ftab%3Dbills');
  });

  it('says why a sign-in failed and offers to try again from the start page', () => {
    window.history.replaceState(null, '', '/?sign_in_error=email_not_verified');
    render(<SignInPage />);
    expect(screen.getByRole('alert').textContent).toContain('has not verified your email address');
    const retry = screen.getByRole('link', { name: 'Try again' });
    expect(retry.getAttribute('href')).toBe('/api/v1/auth/login?return_to=%2F');
  });

  it('shows only its own words, whatever a link carries', () => {
    window.history.replaceState(null, '', '/?sign_in_error=made_up&message=Call%20this%20number');
    render(<SignInPage />);
    const alert = screen.getByRole('alert').textContent ?? '';
    expect(alert).toContain('The sign-in did not complete');
    expect(alert).not.toContain('Call this number');
  });
});
