// The release form: every field of a release and its strategy, with a live preview of the batch plan
// from the server's planner (POST …/releases?dryRun=true: nothing is written until "Release").

import { api } from './api.js';
import { h, replace, debounce, errorBox } from './dom.js';
import { can } from './who.js';

const actions = {
  create: 'Create an instance',
  update: 'Update the image',
  rollback: 'Roll back',
  scale: 'Scale',
  restart: 'Restart pods',
};
// The fields each action sends (strategy fields apart).
const actionFields = {
  create: ['image', 'replicas', 'appName', 'appID', 'groupID'],
  update: ['image'],
  rollback: ['rollbackTo'],
  scale: ['replicas'],
  restart: [],
};
const updateStrategy = ['canary', 'batchSize', 'batches', 'mode', 'batchIntervalSeconds', 'startupTimeoutSeconds', 'pullOutWaitSeconds', 'noPullIn'];
const otherStrategy = ['batchSize', 'batches', 'mode', 'batchIntervalSeconds', 'startupTimeoutSeconds', 'pullOutWaitSeconds', 'podsToDelete'];

function field(name, label, input, hint) {
  input.id = `f-${name.replace('.', '-')}`;
  input.name = name;
  const describedBy = `${input.id}-hint`;
  input.setAttribute('aria-describedby', describedBy);
  return h('div.field', { dataset: { field: name } },
    h('label', { for: input.id }, label),
    input,
    h('small.hint', { id: describedBy }, hint || ''));
}

const number = (attributes = {}) => h('input', { type: 'number', inputmode: 'numeric', min: 0, ...attributes });
const text = (attributes = {}) => h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attributes });

/** The plan of a preview as batch chips: "canary 1", "3", "3", … */
export function planChips(plan) {
  return h('ol.plan', { 'aria-label': 'Batch plan' },
    (plan || []).map((batch, index) => h('li.chip', { dataset: { canary: batch.canary ? 'true' : 'false' } },
      h('span.n', `#${index + 1}`), batch.canary ? ` canary ${batch.size}` : ` ${batch.size} pod${batch.size === 1 ? '' : 's'}`)));
}

export function releaseView(prefill = {}) {
  const form = h('form.card.release', { novalidate: true });
  const preview = h('section.preview', { 'aria-live': 'polite', 'aria-labelledby': 'preview-title' });
  const outcome = h('div');
  const inputs = {
    namespace: text({ value: prefill.namespace || 'prod', required: true }),
    instance: text({ value: prefill.instance || '', required: true }),
    action: h('select', Object.entries(actions).map(([value, label]) => h('option', { value, selected: value === (prefill.action || 'create') }, label))),
    image: text({ value: prefill.image || '', placeholder: 'registry/app:tag' }),
    replicas: number({ value: prefill.replicas || '' }),
    appName: text(),
    appID: number(),
    groupID: number(),
    rollbackTo: text({ value: prefill.rollbackTo || '', placeholder: 'the release before (default)' }),
    'strategy.canary': number({ value: prefill.canary || '' }),
    'strategy.batchSize': text({ value: prefill.batchSize || '', placeholder: '3 or 25%' }),
    'strategy.batches': number(),
    'strategy.mode': h('select', h('option', { value: '' }, 'default (auto)'), h('option', { value: 'auto' }, 'auto'), h('option', { value: 'manual', selected: prefill.mode === 'manual' }, 'manual')),
    'strategy.batchIntervalSeconds': number(),
    'strategy.startupTimeoutSeconds': number(),
    'strategy.pullOutWaitSeconds': number(),
    'strategy.noPullIn': h('input', { type: 'checkbox' }),
    'strategy.podsToDelete': text({ placeholder: 'pod-a, pod-b' }),
    reason: h('textarea', { rows: 2, placeholder: 'why (kept in the log with your name)' }),
  };
  const hints = {
    instance: 'the CloneSet’s name', image: 'the container image to run', replicas: 'pods in total',
    'strategy.canary': 'pods of the first batch, stopped for a decision', 'strategy.batchSize': 'pods per batch, or a percentage',
    'strategy.batches': 'or a number of batches', 'strategy.mode': 'manual: stop before each batch',
    'strategy.batchIntervalSeconds': 'auto mode: wait between batches', 'strategy.startupTimeoutSeconds': 'a batch fails if not ready in time',
    'strategy.pullOutWaitSeconds': 'drain time before a pod goes', 'strategy.noPullIn': 'skip the traffic gate (no smoke stop)',
    'strategy.podsToDelete': 'scale in / restart: which pods',
  };
  const labels = {
    namespace: 'Namespace', instance: 'Instance', action: 'Action', image: 'Image', replicas: 'Replicas', appName: 'App name',
    appID: 'App ID', groupID: 'Group ID', rollbackTo: 'Roll back to (flow)', 'strategy.canary': 'Canary pods',
    'strategy.batchSize': 'Batch size', 'strategy.batches': 'Batches', 'strategy.mode': 'Mode',
    'strategy.batchIntervalSeconds': 'Batch interval (s)', 'strategy.startupTimeoutSeconds': 'Startup timeout (s)',
    'strategy.pullOutWaitSeconds': 'Pull-out wait (s)', 'strategy.noPullIn': 'No pull-in', 'strategy.podsToDelete': 'Pods',
    reason: 'Reason',
  };
  const rows = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, field(name, labels[name], input, hints[name])]));

  function request() {
    const action = inputs.action.value;
    const body = { action, instance: inputs.instance.value.trim() };
    for (const name of actionFields[action]) {
      const value = inputs[name].value.trim();
      if (value === '') continue;
      body[name] = inputs[name].type === 'number' ? Number(value) : value;
    }
    const strategy = {};
    for (const key of action === 'scale' || action === 'restart' ? otherStrategy : updateStrategy) {
      const input = inputs[`strategy.${key}`];
      if (input.type === 'checkbox') { if (input.checked) strategy[key] = true; continue; }
      const value = input.value.trim();
      if (value === '') continue;
      if (key === 'podsToDelete') strategy[key] = value.split(/[\s,]+/).filter(Boolean);
      else if (key === 'batchSize') strategy[key] = /^\d+$/.test(value) ? Number(value) : value;
      else strategy[key] = input.type === 'number' ? Number(value) : value;
    }
    if (Object.keys(strategy).length) body.strategy = strategy;
    const reason = inputs.reason.value.trim();
    if (reason) body.reason = reason;
    return { namespace: inputs.namespace.value.trim(), body };
  }

  function showFields() {
    const action = inputs.action.value;
    const strategy = action === 'scale' || action === 'restart' ? otherStrategy : updateStrategy;
    for (const [name, row] of Object.entries(rows)) {
      if (['namespace', 'instance', 'action', 'reason'].includes(name)) continue;
      row.hidden = name.startsWith('strategy.') ? !strategy.includes(name.slice(9)) : !actionFields[action].includes(name);
    }
  }

  function markError(error) {
    for (const row of Object.values(rows)) {
      row.classList.remove('invalid');
      row.querySelector('input, select, textarea')?.removeAttribute('aria-invalid');
    }
    if (!error?.field) return;
    const row = rows[error.field] || rows[error.field.split('.').slice(0, 2).join('.')];
    if (row) {
      row.classList.add('invalid');
      row.querySelector('input, select, textarea')?.setAttribute('aria-invalid', 'true');
    }
  }

  let previewSeq = 0;
  async function updatePreview() {
    const { namespace, body } = request();
    const seq = ++previewSeq;
    if (!namespace || !body.instance) {
      replace(preview, h('h2#preview-title', 'Plan'), h('p.muted', 'Name the namespace and instance to see the plan.'));
      return;
    }
    try {
      const result = await api(`/api/v1/namespaces/${encodeURIComponent(namespace)}/releases?dryRun=true`, { method: 'POST', body });
      if (seq !== previewSeq) return;
      markError(null);
      const deploy = result.deploy;
      replace(preview,
        h('h2#preview-title', 'Plan'),
        h('p.change', h('code', result.from.image || '(no CloneSet yet)'), ` ×${result.from.replicas} → `, h('code', result.to.image), ` ×${result.to.replicas}`),
        planChips(deploy.plan),
        h('p.muted', `${deploy.plan.length} batch${deploy.plan.length === 1 ? '' : 'es'} · mode ${deploy.mode}` +
          (deploy.canary ? ` · canary ${deploy.canary} stops Smoked for a decision` : '')));
    } catch (error) {
      if (seq !== previewSeq) return;
      markError(error);
      replace(preview, h('h2#preview-title', 'Plan'), errorBox(error));
    }
  }
  const schedulePreview = debounce(updatePreview, 250);

  form.addEventListener('input', schedulePreview);
  form.addEventListener('change', () => { showFields(); schedulePreview(); });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { namespace, body } = request();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const flow = await api(`/api/v1/namespaces/${encodeURIComponent(namespace)}/releases`, { method: 'POST', body });
      location.hash = `#/flows/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.name)}`;
    } catch (error) {
      markError(error);
      replace(outcome, errorBox(error));
      button.disabled = false;
    }
  });

  replace(form,
    h('h1', 'New release'),
    h('fieldset', h('legend', 'What'), rows.namespace, rows.instance, rows.action, rows.image, rows.replicas, rows.rollbackTo,
      rows.appName, rows.appID, rows.groupID),
    h('fieldset', h('legend', 'Strategy'), ...Object.keys(rows).filter((name) => name.startsWith('strategy.')).map((name) => rows[name])),
    h('fieldset', h('legend', 'Why'), rows.reason),
    outcome,
    can('deployer') ? h('button.primary', { type: 'submit' }, 'Release') : h('p.muted', 'Your roles do not include deployer: you can preview, not release.'));
  showFields();
  updatePreview();
  return { element: h('div.release-page', form, preview), stop() {} };
}
