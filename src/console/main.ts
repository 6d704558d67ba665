// The web console's entry: signs in, routes by location.hash (#/ databases, #/db/<name> one database), mounts the API calls panel.
//
// Plain TypeScript and DOM, no framework and no runtime dependency: a handful of views that each
// render once and update a few nodes in place need no virtual DOM, and the bundle stays small
// (the Worker serves it from one JSON module; see scripts/build-console.ts).

import { Api } from './api.ts';
import { apiPanel } from './api-panel.ts';
import { databaseView } from './database-view.ts';
import { databasesView } from './databases-view.ts';
import { type View, h } from './dom.ts';
import { signInView } from './sign-in.ts';

/** sessionStorage key of the token: this tab only, gone when it closes. */
const TOKEN_KEY = 'ltx-edge.console.token';

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
let api: Api | null = null;
let view: View | undefined;

function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  api = null;
  // Back to #/ without a hashchange event (render() follows).
  history.replaceState(null, '', '#/');
  render();
}

const signOutButton = h('button', { type: 'button', class: 'link', on: { click: signOut } }, 'Sign out');
nav.append(h('a', { href: '#/' }, 'Databases'), signOutButton);

/** The view the hash names, for a signed-in session. */
function route(a: Api): View {
  const m = /^#\/db\/(.+)$/.exec(location.hash);
  if (!m) return databasesView(a);
  let name = m[1];
  try {
    name = decodeURIComponent(name);
  } catch {
    // A malformed escape: the name as written (the server will say it does not exist).
  }
  return databaseView(a, name);
}

function render(): void {
  view?.dispose?.();
  nav.hidden = api === null;
  view =
    api === null
      ? signInView((token, signedIn) => {
          sessionStorage.setItem(TOKEN_KEY, token);
          api = signedIn;
          render();
        })
      : route(api);
  main.replaceChildren(view.el);
  view.focus.focus();
}

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved !== null) api = new Api(saved);
document.getElementById('panel')!.append(apiPanel());
window.addEventListener('hashchange', render);
render();
