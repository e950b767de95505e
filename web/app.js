/* ml-connector console: a few functions over the JSON API (src/console/console.h).
 * No framework. Money arrives as decimal text made on the server from integer
 * minor units and is shown as is: nothing here does arithmetic on amounts. */
'use strict';
var S = { user: null, role: null, csrf: null, tz: 'UTC' };

function $(id) { return document.getElementById(id); }

/* el('td', {class: 'num'}, 'text', child...): never parses HTML. */
function el(tag, attrs) {
  var e = document.createElement(tag), k, i, c;
  for (k in attrs || {}) e.setAttribute(k, attrs[k]);
  for (i = 2; i < arguments.length; i++) {
    c = arguments[i];
    if (c === null || c === undefined) continue;
    e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  return e;
}

function table(head, rows) {
  var t = el('table'), tr = el('tr');
  head.forEach(function (h) { tr.appendChild(el('th', {}, h)); });
  t.appendChild(tr);
  rows.forEach(function (r) {
    var row = el('tr');
    r.forEach(function (c) {
      row.appendChild(c instanceof Node && c.tagName === 'TD' ? c : el('td', {}, c));
    });
    t.appendChild(row);
  });
  return t;
}

function num(text) { return el('td', { class: 'num' }, text); }
function tm(ms) { return el('td', { class: 't' }, when(ms)); }

/* A time in the server's time zone, which the header names. */
function when(ms) {
  if (!ms) return '-';
  try {
    return new Date(ms).toLocaleString('sv-SE', { timeZone: S.tz });
  } catch (e) {
    return new Date(ms).toISOString();
  }
}

function say(text, bad) {
  var m = $('msg');
  m.textContent = text || '';
  m.className = bad ? 'err' : '';
}

function api(method, path, body) {
  var opt = { method: method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  if (method === 'POST' && S.csrf) opt.headers['X-CSRF-Token'] = S.csrf;
  return fetch(path, opt).then(function (r) {
    return r.json().catch(function () { return {}; }).then(function (j) {
      if (r.status === 401 && path !== '/api/login') { signedOut(); }
      if (!r.ok) {
        var err = new Error(j.error || ('HTTP ' + r.status));
        err.status = r.status;
        throw err;
      }
      return j;
    });
  });
}

function signedIn(s) {
  S.user = s.user; S.role = s.role; S.csrf = s.csrf; S.tz = s.timezone || 'UTC';
  $('who').textContent = s.user + ' (' + s.role + ')';
  $('tz').textContent = 'server time zone: ' + S.tz;
  $('nav').hidden = false;
  $('logout').hidden = false;
  route();
}

function signedOut() {
  S.user = S.role = S.csrf = null;
  $('who').textContent = '';
  $('nav').hidden = true;
  $('logout').hidden = true;
  show('login');
}

function show(page) {
  ['login', 'overview', 'orders', 'held', 'reports'].forEach(function (p) {
    $('page-' + p).hidden = p !== page;
    var n = $('nav-' + p);
    if (n) n.className = p === page ? 'on' : '';
  });
}

function route() {
  if (!S.user) { signedOut(); return; }
  var page = (location.hash || '#overview').slice(1);
  if (['overview', 'orders', 'held', 'reports'].indexOf(page) < 0) page = 'overview';
  show(page);
  if (page === 'overview') loadOverview();
  if (page === 'held') loadHeld();
  if (page === 'reports') loadReport($('report-day').value);
}

/* ---- overview ---- */

function amounts(list) {
  return (list || []).map(function (a) { return a.currency + ' ' + a.text; }).join(', ') || '-';
}

function loadOverview() {
  api('GET', '/api/overview').then(function (o) {
    var box = $('overview'), cards = el('div', { class: 'cards' });
    box.textContent = '';
    ['queued', 'running', 'paused', 'held', 'failed'].forEach(function (k) {
      var j = o.jobs[k];
      cards.appendChild(el('div', { class: 'card', id: 'jobs-' + k }, k, el('b', {}, j.count),
        j.count ? 'oldest ' + when(j.oldest_ms) : ''));
    });
    box.appendChild(el('h2', {}, 'Queue'));
    box.appendChild(cards);
    box.appendChild(el('h2', {}, 'Held items by reason'));
    box.appendChild(o.held_groups.length ? table(['reason', 'items', 'failed', 'amount', 'oldest', 'to fix'],
      o.held_groups.map(function (g) {
        return [g.code, num(g.count), num(g.failed), num(amounts(g.amounts)), tm(g.oldest_ms), g.fix];
      })) : el('p', {}, 'nothing held'));
    box.appendChild(el('h2', {}, 'Posted today (since ' + when(o.today.since_ms) + ')'));
    box.appendChild(o.today.totals.length ? table(['currency', 'documents', 'debits'],
      o.today.totals.map(function (t) { return [t.currency, num(t.documents), num(t.text)]; }))
      : el('p', {}, 'no document posted today'));
    box.appendChild(el('h2', {}, 'Latest reconciliation'));
    box.appendChild(o.reconcile ? el('p', { id: 'overview-reconcile',
      class: o.reconcile.differences ? 'bad' : 'ok' }, o.reconcile.day + ': ' +
      (o.reconcile.differences ? o.reconcile.differences + ' difference(s)' : 'the sides agree') +
      ' (run ' + when(o.reconcile.created_ms) + ')') : el('p', {}, 'none stored yet'));
    box.appendChild(el('h2', {}, 'Systems'));
    box.appendChild(table(['what', 'state'], [
      ['BigCommerce quota left', o.bigcommerce_quota.left < 0 ? 'unknown' : String(o.bigcommerce_quota.left)],
      ['AIS session', o.ais_session === null ? 'flows not running' : (o.ais_session ? 'up' : 'down')],
      ['last order document posted', when(o.flows.orders)],
      ['last customer written to JDE', when(o.flows.customers)],
      ['reconcile sweep watermark', o.flows.reconcile_sweep || '-'],
      ['catalog poll watermark', o.flows.catalog_poll || '-'],
      ['last daily report', o.flows.daily_report || '-']
    ].concat((o.conditions || []).map(function (c) {
      return ['not ready: ' + c.condition, c.reason + ' (since ' + when(c.since_ms) + ')'];
    }))));
  }).catch(function (e) { say(e.message, true); });
}

/* ---- held items ---- */

function act(kind, id) {
  var note = $('held-note').value.trim();
  if (!note) { say('Write a note first: it is kept in the audit trail.', true); return; }
  api('POST', '/api/' + kind, { id: id, note: note }).then(function (r) {
    say((kind === 'replay' ? 'Replayed ' : 'Dismissed ') + r.key + ' (job ' + r.id + ').');
    loadHeld();
  }).catch(function (e) { say(kind + ' refused: ' + e.message, true); });
}

function loadHeld() {
  api('GET', '/api/held').then(function (h) {
    var box = $('held');
    box.textContent = '';
    if (!h.items.length) { box.appendChild(el('p', { id: 'held-empty' }, 'Nothing held or failed.')); return; }
    box.appendChild(table(['job', 'key', 'state', 'reason', 'amount', 'since', 'to fix', ''],
      h.items.map(function (i) {
        var b = el('td');
        if (i.dismissed) {
          b.appendChild(el('span', {}, 'dismissed by ' + i.dismissed.by + ': ' + i.dismissed.note));
        } else {
          var r = el('button', { type: 'button', class: 'replay', 'data-key': i.key }, 'Replay');
          var d = el('button', { type: 'button', class: 'dismiss', 'data-key': i.key }, 'Dismiss');
          r.addEventListener('click', function () { act('replay', i.id); });
          d.addEventListener('click', function () { act('dismiss', i.id); });
          b.appendChild(r); b.appendChild(d);
        }
        return [String(i.id), i.key, i.state, i.code + ': ' + (i.reason || ''),
          i.amount ? num(i.amount.currency + ' ' + i.amount.text) : '-', tm(i.since_ms), i.fix, b];
      })));
    if (S.role !== 'operator') box.appendChild(el('p', {}, 'Replay and dismiss need the operator role.'));
  }).catch(function (e) { say(e.message, true); });
}

/* ---- orders ---- */

function findOrder(q) {
  api('GET', '/api/order?q=' + encodeURIComponent(q)).then(function (o) {
    var box = $('order-result');
    box.textContent = '';
    if (o.orders) { /* an e-mail: that customer's orders, as BigCommerce lists them */
      box.appendChild(el('h2', {}, 'Orders of ' + o.email + ': ' + o.orders.length));
      box.appendChild(table(['order', 'created', 'status', 'total', ''], o.orders.map(function (x) {
        var b = el('button', { type: 'button' }, 'Open');
        b.addEventListener('click', function () { $('order-q').value = String(x.id); findOrder(String(x.id)); });
        return [String(x.id), x.date_created || '', x.status || '', num((x.currency || '') + ' ' + (x.total_inc_tax || '')), el('td', {}, b)];
      })));
      return;
    }
    box.appendChild(el('h2', { id: 'order-key' }, o.key));
    box.appendChild(el('h2', {}, 'Jobs not done'));
    box.appendChild(o.jobs.length ? table(['job', 'kind', 'state', 'attempts', 'reason'],
      o.jobs.map(function (j) { return [String(j.id), j.kind, j.state, num(j.attempts), j.reason || '']; }))
      : el('p', {}, 'none: nothing queued, running or held'));
    box.appendChild(el('h2', {}, 'JDE documents'));
    if (!o.documents.length) box.appendChild(el('p', {}, 'nothing posted or being posted'));
    o.documents.forEach(function (d) {
      box.appendChild(el('p', { class: 'doc' }, d.key + ' ' + d.kind + ' ' + d.state +
        (d.document_number ? ': JDE ' + d.document_type + ' ' + d.document_number +
          ' company ' + d.document_company + ' batch ' + d.batch : '') + ' (' + when(d.updated_ms) + ')'));
      var lines = (d.request && d.request.lines) || [];
      if (lines.length) {
        box.appendChild(table(['account', 'debit', 'credit', 'role', 'remark'], lines.map(function (l) {
          var neg = String(l.amount).charAt(0) === '-';
          return [l.account, num(neg ? '' : l.amount), num(neg ? String(l.amount).slice(1) : ''),
            l.role || '', l.remark || ''];
        })));
      }
    });
    box.appendChild(el('h2', {}, 'Audit trail'));
    box.appendChild(table(['time', 'actor', 'action', 'outcome', 'detail'], o.audit.map(function (a) {
      return [tm(a.at_ms), a.actor, a.action, a.outcome,
        el('td', {}, el('code', {}, a.detail === null ? '' : JSON.stringify(a.detail)))];
    })));
  }).catch(function (e) { say(e.message, true); $('order-result').textContent = ''; });
}

/* ---- reconciliation ---- */

function loadReport(day) {
  var q = day ? '?day=' + encodeURIComponent(day) : '';
  $('report-csv').setAttribute('href', '/api/report.csv' + q);
  api('GET', '/api/report' + q).then(function (d) {
    var box = $('report');
    box.textContent = '';
    if (!day && d.day) { $('report-day').value = d.day; $('report-csv').setAttribute('href', '/api/report.csv?day=' + d.day); }
    box.appendChild(el('p', { id: 'report-verdict', class: d.agree ? 'ok' : 'bad' },
      'Reconciliation of ' + d.day + ' (' + d.timezone + ', ' + d.mode + ' mode): ' +
      (d.agree ? 'the sides agree' : 'the sides DIFFER')));
    box.appendChild(el('h2', {}, 'BigCommerce'));
    box.appendChild(table(['currency', 'orders', 'net sales', 'tax', 'shipping', 'discounts', 'total', 'refunds', 'refunded'],
      (d.bigcommerce || []).map(function (x) {
        return [x.currency, num(x.orders), num(x.net_sales), num(x.tax), num(x.shipping),
          num(x.discounts), num(x.total), num(x.refunds), num(x.refunded)];
      })));
    box.appendChild(el('h2', {}, 'JDE accounts'));
    box.appendChild(table(['currency', 'account', 'description', 'ledger', 'jde', 'difference'],
      (d.accounts || []).map(function (x) {
        return [x.currency, x.account, x.description, num(x.ledger), num(x.jde), num(x.difference)];
      })));
    box.appendChild(el('h2', {}, 'Differences: ' + (d.differences || []).length));
    (d.differences || []).forEach(function (x) {
      box.appendChild(el('p', {}, x.key + ' ' + x.reason + (x.why ? '/' + x.why : '') + ': ' +
        x.detail + '. To do: ' + x.action));
    });
    box.appendChild(el('h2', {}, 'For information: ' + (d.information || []).length));
    (d.information || []).forEach(function (x) {
      box.appendChild(el('p', {}, x.key + ' ' + x.reason + ': ' + x.detail));
    });
  }).catch(function (e) { $('report').textContent = e.message; });
}

/* "YYYY-MM-DD" moved by n days (calendar arithmetic on a date, in UTC). */
function shiftDay(day, n) {
  var d = new Date(day + 'T00:00:00Z');
  if (isNaN(d.getTime())) return day;
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/* ---- wiring ---- */

document.addEventListener('DOMContentLoaded', function () {
  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    api('POST', '/api/login', { user: $('login-user').value, password: $('login-password').value })
      .then(function (s) { $('login-password').value = ''; say(''); signedIn(s); })
      .catch(function (e) { say('Sign-in failed: ' + e.message, true); });
  });
  $('logout').addEventListener('click', function () {
    api('POST', '/api/logout', {}).catch(function () {}).then(function () { say('Signed out.'); signedOut(); });
  });
  $('order-form').addEventListener('submit', function (ev) { ev.preventDefault(); findOrder($('order-q').value); });
  $('report-form').addEventListener('submit', function (ev) { ev.preventDefault(); loadReport($('report-day').value); });
  [['report-prev', -1], ['report-next', 1]].forEach(function (b) {
    $(b[0]).addEventListener('click', function () {
      if (!$('report-day').value) return;
      $('report-day').value = shiftDay($('report-day').value, b[1]);
      loadReport($('report-day').value);
    });
  });
  window.addEventListener('hashchange', route);
  api('GET', '/api/session').then(signedIn).catch(function () { signedOut(); });
});
