// The page: who the user is, which view the location names (#/, #/new, #/flows/NS/NAME, …), and
// tearing down the previous view's live streams when it changes.

import { api, session } from './api.js';
import { h, replace, errorBox } from './dom.js';
import { fleetView } from './fleet.js';
import { releaseView } from './release.js';
import { flowView, replayView, complianceView } from './flow.js';
import { who, can } from './who.js';

const view = document.getElementById('view');
let current = null;

async function whoami() {
  try {
    who.me = await api('/api/v1/whoami');
  } catch (error) {
    who.me = null;
    if (error.status !== 401) throw error;
  }
  const me = who.me;
  const label = document.getElementById('whoami');
  const logout = document.getElementById('logout');
  label.textContent = me ? `${me.user} (${me.roles.join(', ') || 'viewer'})${me.open ? ' · open server' : ''}` : '';
  logout.hidden = !me || (me.open && !session.user);
  // Releasing needs the deployer role: others get no link to the form.
  document.querySelector('[data-nav=new]').hidden = !can('deployer');
  return me;
}

function loginView() {
  const token = h('input#login-token', { type: 'password', name: 'token', autocomplete: 'current-password', required: true });
  const message = h('div');
  const form = h('form.card.login', {
    on: {
      submit: async (event) => {
        event.preventDefault();
        session.save(token.value.trim(), '');
        if (await whoami().catch(() => null)) {
          location.hash = '#/';
          route();
        } else {
          session.clear();
          replace(message, errorBox({ message: 'the server does not know this token' }));
        }
      },
    },
  },
  h('h1', 'Sign in'),
  h('p', 'This server asks for an API token (from its --tokens-file).'),
  h('label', { for: 'login-token' }, 'Token'), token,
  message,
  h('button.primary', { type: 'submit' }, 'Sign in'));
  return { element: form, stop() {} };
}

function parse(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return parts;
}

async function route() {
  current?.stop();
  current = null;
  const parts = parse(location.hash);
  for (const link of document.querySelectorAll('[data-nav]')) {
    const active = (parts[0] || 'fleet') === link.dataset.nav || (parts.length === 0 && link.dataset.nav === 'fleet');
    if (active) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  try {
    if (!who.me) await whoami();
    if (!who.me) {
      current = loginView();
    } else if (parts[0] === 'new') {
      current = releaseView(parts[1] ? Object.fromEntries(new URLSearchParams(parts[1])) : {});
    } else if (parts[0] === 'flows' && parts.length >= 3) {
      const [, namespace, name, sub] = parts;
      current = sub === 'replay' ? replayView(namespace, name) : sub === 'compliance' ? complianceView(namespace, name) : flowView(namespace, name);
    } else {
      current = fleetView();
    }
  } catch (error) {
    current = { element: h('section', errorBox(error)), stop() {} };
  }
  replace(view, current.element);
  const heading = view.querySelector('h1');
  if (heading) document.title = `${heading.textContent} · Triton`;
}

document.getElementById('logout').addEventListener('click', () => {
  session.clear();
  who.me = null;
  location.hash = '#/';
  route();
});
window.addEventListener('hashchange', route);
route();
