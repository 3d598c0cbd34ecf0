// The run page's live progress (internal/workflow/templates/run.html):
// while the run is queued or running, poll its JSON every second and update
// status, times, result, outputs and activities in place; a run that starts
// waiting gets its prompt form. No inline script: the CSP forbids it, so
// the page marks itself with data- attributes instead.
(function () {
  'use strict';
  var root = document.getElementById('run');
  if (!root || root.dataset.live !== '1') {
    return;
  }
  var id = root.dataset.runId;
  var status = root.dataset.status;
  var canAct = root.dataset.canAct === '1';
  var csrf = root.dataset.csrf;
  var url = '/api/automation/runs/' + encodeURIComponent(id) + '?details=1';

  function $(sel) { return root.querySelector(sel); }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') {
        e.textContent = attrs[k];
      } else {
        e.setAttribute(k, attrs[k]);
      }
    });
    (children || []).forEach(function (c) { e.appendChild(c); });
    return e;
  }

  // Same forms as the server's pageDate and formatDuration.
  function date(s) {
    if (!s) { return ''; }
    var d = new Date(s);
    return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  }
  function duration(a, b) {
    if (!a || !b) { return ''; }
    var ms = Math.max(0, new Date(b) - new Date(a));
    if (ms < 1000) { return ms + ' ms'; }
    if (ms < 60000) { return (ms / 1000).toFixed(1) + ' s'; }
    return Math.floor(ms / 60000) + ' min ' + Math.floor((ms % 60000) / 1000) + ' s';
  }
  function value(v) {
    if (v === null || v === undefined) { return ''; }
    return typeof v === 'string' ? v : JSON.stringify(v);
  }
  function pretty(v) {
    if (v === null || v === undefined) { return ''; }
    return JSON.stringify(v, null, 2);
  }
  function ended(s) {
    return s !== 'queued' && s !== 'running' && s !== 'waiting';
  }

  function setStatus(span, s) {
    span.className = 'status ' + s;
    span.textContent = s;
  }
  function setText(sel, text) {
    var e = $(sel);
    if (e) { e.textContent = text; }
  }
  function setMessage(sel, text) {
    var e = $(sel);
    if (!e) { return; }
    e.textContent = text || '';
    e.hidden = !text;
  }

  function renderOutputs(outputs) {
    var body = $('#run-outputs');
    var names = Object.keys(outputs || {}).sort();
    if (names.length === 0) { return; }
    body.replaceChildren.apply(body, names.map(function (n) {
      return el('tr', {'data-name': n}, [
        el('th', {text: n}),
        el('td', {'class': 'value'}, [el('code', {text: value(outputs[n])})])
      ]);
    }));
  }

  function activityRow(a) {
    var input = el('details', {'class': 'act-input'}, [el('summary', {text: 'Input'}), el('pre')]);
    var output = el('details', {'class': 'act-output'}, [el('summary', {text: 'Output'}), el('pre')]);
    var err = el('p', {'class': 'error act-error'});
    return el('tr', {'data-seq': String(a.seq)}, [
      el('td', {'class': 'seq', text: String(a.seq)}),
      el('td', {'class': 'title'}, [el('strong', {text: a.title}), el('br'), el('code', {'class': 'muted', text: a.type})]),
      el('td', {'class': 'act-status'}, [el('span')]),
      el('td', {'class': 'started nowrap'}),
      el('td', {'class': 'duration nowrap'}),
      el('td', {'class': 'io'}, [err, input, output])
    ]);
  }

  // Rows are updated in place by seq, so details a person opened stay open.
  function renderActivities(list) {
    var body = $('#run-activities');
    (list || []).forEach(function (a) {
      var row = body.querySelector('tr[data-seq="' + a.seq + '"]');
      if (!row) {
        row = activityRow(a);
        body.appendChild(row);
      }
      setStatus(row.querySelector('.act-status span'), a.status);
      row.querySelector('.started').textContent = date(a.started_at);
      row.querySelector('.duration').textContent = duration(a.started_at, a.ended_at);
      var err = row.querySelector('.act-error');
      err.textContent = a.error || '';
      err.hidden = !a.error;
      [['.act-input', a.input], ['.act-output', a.output]].forEach(function (p) {
        var d = row.querySelector(p[0]);
        var text = pretty(p[1]);
        d.querySelector('pre').textContent = text;
        d.hidden = !text;
      });
    });
  }

  function renderPrompt(run) {
    var box = $('#run-prompt');
    if (!run.prompt) {
      box.replaceChildren();
      return;
    }
    var p = run.prompt;
    var card = el('div', {'class': 'card prompt'}, [el('h2', {text: p.title})]);
    if (p.body) { card.appendChild(el('p', {'class': 'prompt-body', text: p.body})); }
    if (!canAct) {
      card.appendChild(el('p', {'class': 'muted', text: 'The run waits for an answer from the person who started it or a tenant_admin.'}));
      box.replaceChildren(card);
      return;
    }
    var form = el('form', {method: 'post', action: '/automation/runs/' + encodeURIComponent(id) + '/answer'}, [
      el('input', {type: 'hidden', name: 'csrf_token', value: csrf})
    ]);
    (p.fields || []).forEach(function (f, i) {
      form.appendChild(el('label', {'for': 'field-' + i, text: f.label}));
      if (f.options && f.options.length) {
        form.appendChild(el('select', {id: 'field-' + i, name: 'field.' + i}, f.options.map(function (o) {
          return el('option', {value: o, text: o});
        })));
      } else {
        form.appendChild(el('input', {type: 'text', id: 'field-' + i, name: 'field.' + i}));
      }
    });
    form.appendChild(el('div', {'class': 'actions'}, [el('button', {type: 'submit', text: 'Answer'})]));
    card.appendChild(form);
    box.replaceChildren(card);
  }

  function render(data) {
    var run = data.run;
    setStatus($('#run-status'), run.status);
    setText('#run-started', date(run.started_at));
    setText('#run-ended', date(run.ended_at));
    setText('#run-duration', duration(run.started_at, run.ended_at));
    setMessage('#run-result', run.result_message);
    setMessage('#run-error', run.error);
    renderOutputs(run.outputs);
    renderActivities(data.activities);
    if (run.status !== status) {
      renderPrompt(run);
    }
    var cancel = $('#run-cancel');
    if (cancel && ended(run.status)) { cancel.hidden = true; }
    status = run.status;
    root.dataset.status = status;
  }

  var failures = 0;
  function poll() {
    fetch(url, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (resp) {
        if (!resp.ok) { throw new Error('HTTP ' + resp.status); }
        return resp.json();
      })
      .then(function (data) {
        failures = 0;
        render(data);
        if (ended(status)) {
          $('#run-live').hidden = true;
          return;
        }
        // A waiting run changes only when someone answers: look less often.
        setTimeout(poll, status === 'waiting' ? 3000 : 1000);
      })
      .catch(function () {
        failures++;
        if (failures < 30) { setTimeout(poll, 2000); }
      });
  }
  setTimeout(poll, 1000);
})();
