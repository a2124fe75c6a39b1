// A flow: its batches with their phase and Pending/Running/Ready/Failed tiles, the pods by version,
// the buttons the server says this user may press, who pressed what and why, the event timeline;
// live from the flow's watch (resumed at the last log position shown, never going back).

import { api, download, flowPath, instancePath } from './api.js';
import { h, replace, time, since, debounce, phaseBadge, errorBox } from './dom.js';
import { follow } from './sse.js';
import { can } from './who.js';
import { planChips } from './release.js';

const actionLabels = {
  next: 'Next', continue: 'Continue', pause: 'Pause', resume: 'Resume', cancel: 'Cancel', review: 'Review emergency',
};
const actionHelp = {
  next: 'pass the stop the flow waits at', continue: 'run the remaining batches without stopping', pause: 'hold the release where it is',
  resume: 'go on from the pause', cancel: 'stop the release for good', review: 'record the review of this emergency change',
};

function counts(c) {
  const value = c || { pending: 0, running: 0, ready: 0, failed: 0 };
  const text = `${value.pending}/${value.running}/${value.ready}/${value.failed}`;
  return h('dl.tiles', { dataset: { counts: text }, 'aria-label': `Pending ${value.pending}, Running ${value.running}, Ready ${value.ready}, Failed ${value.failed}` },
    [['Pending', value.pending, 'p'], ['Running', value.running, 'r'], ['Ready', value.ready, 'y'], ['Failed', value.failed, 'f']].map(([label, n, cls]) =>
      h(`div.tile.${cls}`, h('dt', label), h('dd', String(n)))));
}

function attribution(intent) {
  if (!intent) return null;
  const verb = { NextRequested: 'next', ContinueRequested: 'continue', Paused: 'pause', Resumed: 'resume', Canceled: 'cancel', FlowCreated: 'created' }[intent.intent] || intent.intent;
  return h('p.by', h('strong', intent.actor), ` ${verb}`, intent.reason ? h('q', intent.reason) : null, ' ', h('time', { datetime: intent.at }, since(intent.at)));
}

function waitingText(flow) {
  if (!flow.waiting) return null;
  const batch = flow.conditions.find((c) => c.batch === flow.waiting.batch);
  return flow.waiting.step === 'pullIn'
    ? `Batch ${flow.waiting.batch}${batch?.canary ? ' (canary)' : ''} is smoke-tested and out of traffic: pull it in with Next, or cancel.`
    : `Waiting to start batch ${flow.waiting.batch}: Next starts it, Continue runs every remaining batch.`;
}

function batches(flow) {
  const started = new Map(flow.conditions.map((c) => [c.batch, c]));
  const plan = flow.plan || flow.conditions.map((c) => ({ size: c.batchSize, canary: c.canary }));
  return h('ol.batches', plan.map((planned, index) => {
    const number = index + 1;
    const batch = started.get(number);
    const phase = batch ? batch.phase : 'Pending';
    return h('li.batch', { dataset: { batch: String(number), phase } },
      h('header', h('h3', `Batch ${number}`, planned.canary ? h('span.tag', 'canary') : null), phaseBadge(phase)),
      h('p.muted', `${planned.size} pod${planned.size === 1 ? '' : 's'}`),
      counts(batch?.podCounts),
      batch && batch.pods.length ? h('ul.pods', batch.pods.map((pod) => h('li', { dataset: { phase: pod.phase } },
        h('code', pod.name), ' ', h('span.pod-phase', pod.phase), pod.pullInStatus ? h('span.muted', ` · ${pod.pullInStatus}`) : null))) : null,
      attribution(batch?.lastIntent));
  }));
}

function podsByVersion(instance) {
  if (!instance) return h('p.muted', 'Loading pods…');
  const groups = new Map();
  for (const pod of instance.pods || []) {
    const key = `${pod.updated ? 'new' : 'old'} · ${pod.revision || 'no revision yet'}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(pod);
  }
  if (groups.size === 0) return h('p.muted', 'No pods.');
  return h('div.versions', h('p.muted', `CloneSet image ${instance.image} · update revision ${instance.updateRevision}`),
    [...groups.entries()].sort().map(([key, pods]) => h('section.version',
    h('h3', key, h('span.muted', ` (${pods.length})`)),
    h('ul.pods', pods.map((pod) => {
      const state = pod.terminating ? 'Terminating' : pod.ready ? 'Ready' : pod.containersReady ? 'ContainersReady' : pod.waitingReason || pod.phase;
      return h('li', { dataset: { phase: state } }, h('code', pod.name), ' ', h('span.pod-phase', state),
        h('span.muted', ` · traffic ${pod.gate === 'True' ? 'in' : 'out'}`), pod.restartCount ? h('span.muted', ` · ${pod.restartCount} restarts`) : null);
    })))));
}

function timeline(events) {
  return h('ol.timeline', events.slice().reverse().map((event) => h('li', { dataset: { type: event.type } },
    h('time', { datetime: event.recordedAt }, time(event.recordedAt)), ' ',
    h('strong', event.type), ' · ', h('span', event.actor), event.source ? h('span.muted', ` (${event.source})`) : null,
    event.reason ? h('q', event.reason) : null)));
}

export function flowView(namespace, name) {
  const element = h('section.flow');
  const header = h('div.heading');
  const summary = h('div.summary');
  const waiting = h('div#waiting', { role: 'status' });
  const actions = h('div#actions.actions');
  const message = h('div', { 'aria-live': 'assertive' });
  const batchArea = h('div#batches');
  const podArea = h('div#pods');
  const timelineArea = h('div#timeline');
  const rollbackArea = h('div#rollback');
  let shown = -1;
  let flow = null;
  let instance = null;
  let stream = null;
  const reason = h('input#action-reason', { type: 'text', placeholder: 'why (kept in the log with your name)', 'aria-label': 'Reason for the action' });

  async function act(action) {
    replace(message);
    for (const button of actions.querySelectorAll('button')) button.disabled = true;
    try {
      const updated = await api(`${flowPath(namespace, name)}/${action}`, { method: 'POST', body: {}, reason: reason.value.trim() });
      reason.value = '';
      render(updated);
    } catch (error) {
      replace(message, errorBox(error));
      for (const button of actions.querySelectorAll('button')) button.disabled = false;
    }
  }

  async function previewRollback() {
    replace(rollbackArea, h('p.muted', 'Asking the planner…'));
    const body = { action: 'rollback', instance: flow.instanceName };
    try {
      const result = await api(`/api/v1/namespaces/${encodeURIComponent(namespace)}/releases?dryRun=true`, { method: 'POST', body });
      const why = h('input#rollback-reason', { type: 'text', placeholder: 'why roll back', 'aria-label': 'Reason for the rollback' });
      replace(rollbackArea, h('div.card.rollback',
        h('h2', 'Roll back'),
        h('p.change', h('code', result.from.image || '?'), ` ×${result.from.replicas} → `, h('code', result.to.image), ` ×${result.to.replicas}`),
        planChips(result.deploy.plan),
        why,
        h('button#rollback-confirm.danger', {
          type: 'button',
          on: {
            click: async () => {
              try {
                const created = await api(`/api/v1/namespaces/${encodeURIComponent(namespace)}/releases`, { method: 'POST', body: { ...body, reason: why.value.trim() || undefined } });
                location.hash = `#/flows/${encodeURIComponent(created.namespace)}/${encodeURIComponent(created.name)}`;
              } catch (error) { replace(rollbackArea, errorBox(error)); }
            },
          },
        }, 'Roll back now'),
        h('button.link', { type: 'button', on: { click: () => replace(rollbackArea) } }, 'Close')));
    } catch (error) {
      replace(rollbackArea, errorBox(error));
    }
  }

  function render(status) {
    // Never show a state older than one shown (replies and stream frames may cross).
    if (status.position !== undefined && status.position !== null) {
      if (status.position < shown) return;
      shown = status.position;
    }
    flow = status;
    const phase = status.paused && !status.finished ? 'Paused' : status.phase;
    replace(header,
      h('h1', status.name),
      h('span#flow-phase', phaseBadge(phase)));
    replace(summary, h('dl.facts',
      h('dt', 'Instance'), h('dd', `${status.namespace}/${status.instanceName}`),
      h('dt', 'Action'), h('dd', status.action),
      h('dt', 'Mode'), h('dd', status.mode),
      h('dt', 'Batches'), h('dd', `${status.finishedBatches}/${status.batches} done`),
      h('dt', 'Pods'), h('dd', counts(status.podCounts)),
      h('dt', 'Created by'), h('dd', status.createdBy || ''),
      status.failureReason ? [h('dt', 'Failure'), h('dd.error', status.failureReason)] : null,
      h('dt', 'Log position'), h('dd', h('code#flow-position', String(status.position ?? '')))));
    replace(waiting, status.waiting ? h('p.callout', waitingText(status)) : null);
    const allowed = status.allowedActions || [];
    const buttons = allowed.map((action) => h('button', {
      type: 'button', dataset: { action }, class: action === 'cancel' ? 'danger' : action === 'next' || action === 'continue' ? 'primary' : '',
      title: actionHelp[action], on: { click: () => act(action) },
    }, actionLabels[action] || action));
    if (status.finished && can('deployer') && ['update', 'rollback'].includes(status.action)) {
      buttons.push(h('button', { type: 'button', dataset: { action: 'rollback' }, title: 'preview what a rollback changes', on: { click: previewRollback } }, 'Roll back…'));
    }
    replace(actions, buttons.length ? [reason, ...buttons] : h('p.muted', status.finished ? 'Finished.' : 'Nothing you may do now.'));
    replace(batchArea, h('h2', 'Batches'), batches(status));
    refreshSide();
  }

  const refreshSide = debounce(async () => {
    try {
      const [inst, history] = await Promise.all([
        api(instancePath(namespace, flow.instanceName)).catch(() => null),
        api(`${flowPath(namespace, name)}/history`),
      ]);
      instance = inst;
      replace(podArea, h('h2', 'Pods by version'), podsByVersion(instance));
      replace(timelineArea, h('h2', 'Timeline'), timeline(history.events || []));
    } catch (error) {
      replace(timelineArea, errorBox(error));
    }
  }, 200);

  async function start() {
    try {
      const status = await api(flowPath(namespace, name));
      render(status);
      if (status.finished) return;
      stream = follow(`${flowPath(namespace, name)}/watch`, (frame) => {
        if (frame.event === 'error') { replace(message, errorBox({ message: `the watch was refused (HTTP ${frame.data.status})` })); return false; }
        if (frame.event !== 'deploy') return true;
        render(frame.data);
        return !frame.data.finished;
      }, { lastEventId: status.position });
    } catch (error) {
      replace(element, errorBox(error));
    }
  }

  replace(element,
    header,
    h('nav.sub', { 'aria-label': 'Flow' },
      h('a', { href: '#/' }, '← Fleet'),
      h('a', { href: `#/flows/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/replay` }, 'Replay'),
      h('a', { href: `#/flows/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/compliance` }, 'Compliance record')),
    summary, waiting, actions, message, rollbackArea,
    h('div.columns', batchArea, h('div', podArea, timelineArea)));
  start();
  return { element, stop: () => stream?.stop() };
}

export function replayView(namespace, name) {
  const element = h('section.replay', h('h1', `Replay of ${name}`), h('p.muted', 'Re-folding the flow from the log…'));
  api(`${flowPath(namespace, name)}/replay`).then((replay) => {
    const check = replay.projection;
    replace(element,
      h('h1', `Replay of ${name}`),
      h('nav.sub', h('a', { href: `#/flows/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}` }, '← Flow')),
      check ? h('p', { class: check.matches ? 'ok' : 'error', role: 'status' },
        check.matches ? 'The fold of the log equals the projection.' : `The projection differs: ${check.differences.join('; ')}`) : null,
      h('div.table-wrap', h('table',
        h('thead', h('tr', ['Position', 'Event', 'Who', 'Why', 'Phase', 'Batch', 'P/R/R/F'].map((title) => h('th', { scope: 'col' }, title)))),
        h('tbody', replay.steps.map((step) => h('tr',
          h('td', String(step.position)), h('td', step.type), h('td', `${step.actor} (${step.source})`), h('td', step.reason || ''),
          h('td', step.paused ? `${step.phase} (paused)` : step.phase),
          h('td', step.batch ? `${step.batch}/${step.batches} ${step.batchPhase || ''}` : ''),
          h('td', `${step.podCounts.pending}/${step.podCounts.running}/${step.podCounts.ready}/${step.podCounts.failed}`)))))));
  }).catch((error) => replace(element, h('h1', `Replay of ${name}`), errorBox(error)));
  return { element, stop() {} };
}

export function complianceView(namespace, name) {
  const element = h('section.compliance', h('h1', `Compliance record of ${name}`), h('p.muted', 'Building the record from the log…'));
  const path = `${flowPath(namespace, name)}/compliance`;
  api(path).then((record) => {
    const rows = [];
    const walk = (value, prefix) => {
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [key, inner] of Object.entries(value)) walk(inner, prefix ? `${prefix}.${key}` : key);
      } else {
        rows.push([prefix, Array.isArray(value) ? `${value.length} item${value.length === 1 ? '' : 's'}` : String(value ?? '')]);
      }
    };
    walk(record, '');
    replace(element,
      h('h1', `Compliance record of ${name}`),
      h('nav.sub', h('a', { href: `#/flows/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}` }, '← Flow'),
        h('button.link', { type: 'button', on: { click: () => download(`${path}?format=html`, `${name}.html`) } }, 'Download HTML'),
        h('button.link', { type: 'button', on: { click: () => download(`${path}?format=pdf`, `${name}.pdf`) } }, 'Download PDF'),
        h('button.link', { type: 'button', on: { click: () => download(path, `${name}.json`) } }, 'Download JSON')),
      h('div.table-wrap', h('table.record', h('tbody', rows.map(([key, value]) => h('tr', h('th', { scope: 'row' }, key), h('td', value)))))));
  }).catch((error) => replace(element, h('h1', `Compliance record of ${name}`), errorBox(error)));
  return { element, stop() {} };
}
