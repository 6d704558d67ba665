// The sign-in view: a Token field (Enter submits) checked with GET /v1/databases?limit=1 before it is kept.

import { Api, ApiError } from './api.ts';
import { type View, h } from './dom.ts';

/** Why a token did not sign in, in plain words with the server's code. */
export function signInError(e: unknown): string {
  if (!(e instanceof ApiError)) return `Could not sign in: ${(e as Error).message}`;
  if (e.status === 0) return `Could not sign in: ${e.message}`;
  const refused = e.status === 401 || e.status === 403;
  return `${refused ? 'That token was refused' : 'Could not sign in'} (${e.status} ${e.code}): ${e.message}`;
}

/** Calls `onSignedIn` with an Api for a token the server accepted. */
export function signInView(onSignedIn: (token: string, api: Api) => void): View {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: false,
    'aria-describedby': 'token-help sign-in-error',
  });
  const error = h('p', { role: 'alert', id: 'sign-in-error', class: 'error' });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const token = input.value.trim();
    error.textContent = '';
    if (token === '') {
      error.textContent = 'Enter a token.';
      return;
    }
    button.disabled = true;
    const api = new Api(token);
    try {
      await api.json('GET', '/v1/databases?limit=1');
      onSignedIn(token, api);
    } catch (err) {
      error.textContent = signInError(err);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    } finally {
      button.disabled = false;
    }
  };
  const el = h(
    'section',
    { class: 'sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h2', { id: 'sign-in-title' }, 'Sign in'),
    h(
      'form',
      { on: { submit } },
      h('label', { for: 'token' }, 'Token'),
      h('div', { class: 'row' }, input, button),
      h(
        'p',
        { id: 'token-help', class: 'hint' },
        'An API token with read scope (admin to restore). It is kept in this tab only (sessionStorage) and sent as Authorization: Bearer.',
      ),
      error,
    ),
  );
  return { el, focus: input };
}
