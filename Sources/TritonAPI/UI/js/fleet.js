// The fleet: every flow across namespaces, the ones waiting for this user first. It follows the log
// (GET /api/v1/events) and reloads when a flow's events arrive.

import { api } from './api.js';
import { h, replace, since, debounce, phaseBadge, errorBox } from './dom.js';
import { follow } from './sse.js';
import { can } from './who.js';

function progress(flow) {
  const done = flow.finishedBatches || 0;
  const total = flow.batches || 0;
  return h('span.progress', h('progress', { max: Math.max(total, 1), value: done, 'aria-label': `${done} of ${total} batches` }),
    ` ${done}/${total}`);
}

function row(flow, needsMe) {
  const link = `#/flows/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.name)}`;
  return h('tr', { dataset: { flow: flow.name } },
    h('td', h('a', { href: link }, flow.name), needsMe ? h('span.tag.needs', 'needs you') : null),
    h('td', `${flow.namespace}/${flow.instanceName}`),
    h('td', flow.action),
    h('td', phaseBadge(flow.paused && !flow.finished ? 'Paused' : flow.phase)),
    h('td', progress(flow)),
    h('td', h('time', { datetime: flow.updatedAt || '' }, since(flow.updatedAt))));
}

export function fleetView() {
  const body = h('tbody');
  const status = h('p.muted', { role: 'status' }, 'Loading…');
  const filter = h('input#fleet-filter', { type: 'search', placeholder: 'namespace, instance or flow', 'aria-label': 'Filter flows' });
  let flows = [];
  let mine = new Set();

  function render() {
    const text = filter.value.trim().toLowerCase();
    const shown = flows.filter((flow) => !text || `${flow.namespace}/${flow.instanceName} ${flow.name}`.toLowerCase().includes(text));
    // Waiting for me first, then active flows, then the rest, each newest first.
    const rank = (flow) => (mine.has(flow.name) ? 0 : flow.finished ? 2 : 1);
    shown.sort((a, b) => rank(a) - rank(b) || String(b.updatedAt).localeCompare(String(a.updatedAt)));
    replace(body, shown.map((flow) => row(flow, mine.has(flow.name))));
    replace(status, `${shown.length} flow${shown.length === 1 ? '' : 's'}` + (mine.size ? ` · ${mine.size} waiting for you` : ''));
  }

  async function load() {
    try {
      const [list, inbox] = await Promise.all([
        api('/api/v1/deployflows?pageSize=500&consistent=true'),
        api('/api/v1/inbox').catch(() => ({ deploys: [] })),
      ]);
      flows = list.deploys || [];
      mine = new Set((inbox.deploys || []).map((flow) => flow.name));
      // A flow the inbox knows before the list does (the list is a projection) still shows.
      for (const flow of inbox.deploys || []) if (!flows.some((known) => known.name === flow.name)) flows.push(flow);
      render();
    } catch (error) {
      replace(status, errorBox(error));
    }
  }

  const reload = debounce(load, 300);
  filter.addEventListener('input', render);
  const stream = follow('/api/v1/events', (frame) => {
    if (frame.event === 'log' && (frame.data.flow || frame.data.stream.startsWith('instance-'))) reload();
  });
  load();

  const element = h('section.fleet',
    h('div.heading', h('h1', 'Fleet'), can('deployer') ? h('a.button.primary', { href: '#/new' }, 'New release') : null),
    h('div.toolbar', filter, status),
    h('div.table-wrap', h('table',
      h('caption.visually-hidden', 'Flows across namespaces'),
      h('thead', h('tr', ['Flow', 'Instance', 'Action', 'Phase', 'Batches', 'Updated'].map((title) => h('th', { scope: 'col' }, title)))),
      body)));
  return { element, stop: () => stream.stop() };
}
