// Treue console: sign in with an API token, find a customer, read the profile
// and the timeline. Plain JavaScript, no dependencies; all text from the API is
// inserted as text, never as HTML.
'use strict';
(() => {
  const TOKEN_KEY = 'treue.console.token';
  const SHOP_KEY = 'treue.console.shop';
  // Page size of the timeline; ?limit=N on the console's URL changes it (1-200).
  const PAGE = Math.min(200, Math.max(1, parseInt(new URLSearchParams(location.search).get('limit'), 10) || 50));
  // The API lives beside /console/, also behind a proxy that adds a path prefix.
  const API = new URL('../api/v1/', document.baseURI);
  const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const MSG_INVALID_TOKEN = 'Your token is invalid or expired. Sign in again.';
  const MSG_FORBIDDEN = "This token's role cannot read customers.";

  // [label, icon]
  const EVENTS = {
    'customer.registered': ['Customer registered', 'user'],
    'consent.granted': ['Consent granted', 'check'],
    'consent.revoked': ['Consent revoked', 'ban'],
    'order.placed': ['Order placed', 'cart'],
    'order.paid': ['Order paid', 'card'],
    'order.cancelled': ['Order cancelled', 'x'],
    'order.completed': ['Order completed', 'flag'],
    'shipment.shipped': ['Shipped', 'truck'],
    'shipment.delivered': ['Delivered', 'box'],
    'return.requested': ['Return requested', 'undo'],
    'return.received': ['Return received', 'inbox'],
    'refund.issued': ['Refund issued', 'coin'],
    'review.submitted': ['Review submitted', 'star'],
    'complaint.opened': ['Complaint opened', 'alert'],
    'category.opted_out': ['Category opted out', 'ban'],
    'privacy.customer_redact': ['Redaction requested', 'lock'],
    'privacy.customer_data_request': ['Data request', 'lock'],
    'privacy.shop_redact': ['Shop redaction requested', 'lock'],
    'cart.updated': ['Cart updated', 'cart'],
    'checkout.started': ['Checkout started', 'cart'],
    'cart.abandoned': ['Cart abandoned', 'alert'],
  };
  const ACTIONS = {
    reorder_reminder: ['Reorder reminder', 'bell'],
    sample_gift: ['Sample gift', 'gift'],
    promo_code: ['Promo code', 'ticket'],
    points_award: ['Points award', 'plus'],
    points_revoke: ['Points revoked', 'minus'],
    tag_customer: ['Customer tag', 'tag'],
    review_request: ['Review request', 'chat'],
    notify: ['Notification', 'send'],
  };
  const STATUSES = {
    scheduled: ['Scheduled', 'Planned; waits for its due time.'],
    sending: ['Sending', 'Being sent to the shop right now.'],
    sent: ['Sent', 'The shop confirmed it.'],
    retrying: ['Retrying', 'A call failed; it will be tried again.'],
    dead: ['Dead', 'Gave up after repeated failures.'],
    cancelled: ['Cancelled', 'Withdrawn before it was sent.'],
    suppressed: ['Suppressed', 'Recorded but held back by a guardrail; never sent.'],
  };
  const STAGES = {
    new: 'New', first_purchase: 'First purchase', second_positive: 'Second positive purchase',
    loyal: 'Loyal', at_risk: 'At risk', lapsed: 'Lapsed',
  };

  const $ = (id) => document.getElementById(id);
  const narrow = window.matchMedia('(max-width: 640px)');
  const el = {
    signin: $('signin'), signinForm: $('signin-form'), signinError: $('signin-error'), token: $('token'),
    signinTitle: $('signin-title'),
    app: $('app'), searchForm: $('search-form'), shop: $('shop'), q: $('q'), signOut: $('sign-out'),
    progress: $('progress'), status: $('status'), error: $('error'), welcome: $('welcome'),
    results: $('results'), resultsTitle: $('results-title'), resultsList: $('results-list'),
    customer: $('customer'), back: $('back'), profile: $('profile'),
    filters: $('filters'), types: $('types'), typesCount: $('types-count'), typesEvents: $('types-events'),
    typesActions: $('types-actions'), typesClear: $('types-clear'),
    list: $('timeline-list'), count: $('timeline-count'), empty: $('timeline-empty'), more: $('more'),
  };

  const state = {
    shops: {}, // key -> {name, timezone, platform} as the API lists them
    results: null, // {shop, q, customers}
    current: null, // {shop, id}
    cursor: '',
    loaded: 0,
    pending: null, // what to redo after signing in again
    profileCtl: null,
    timelineCtl: null,
    searchCtl: null,
    busy: 0,
  };

  // ---------- small DOM helpers ----------

  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v == null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const k of kids.flat()) {
      if (k != null && k !== false) e.append(k);
    }
    return e;
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function icon(name) {
    const s = document.createElementNS(SVG, 'svg');
    s.setAttribute('class', 'icon');
    s.setAttribute('aria-hidden', 'true');
    s.setAttribute('focusable', 'false');
    const u = document.createElementNS(SVG, 'use');
    u.setAttribute('href', '#i-' + name);
    s.append(u);
    return s;
  }

  const relFmt = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const fmts = {};
  // Times show in the shop's time zone (the one its rules and quiet hours
  // use), named beside them; the browser's zone where the shop's is unknown.
  function shopZone() {
    const shop = state.current ? state.current.shop : el.shop.value.trim();
    const s = state.shops[shop];
    return s && s.timezone ? s.timezone : undefined;
  }
  function fmt(dateOnly) {
    const tz = shopZone();
    const key = (dateOnly ? 'd|' : 't|') + (tz || '');
    if (!fmts[key]) {
      const o = dateOnly ? { year: 'numeric', month: 'short', day: 'numeric' }
        : { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
      try {
        fmts[key] = new Intl.DateTimeFormat(undefined, tz ? { ...o, timeZone: tz } : o);
      } catch (e) {
        fmts[key] = new Intl.DateTimeFormat(undefined, o); // a zone this browser does not know
      }
    }
    return fmts[key];
  }
  function zoneLabel() {
    return shopZone() || Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
  }

  function parseTime(s) {
    if (!s) return null;
    const d = new Date(s);
    return isNaN(d) ? null : d;
  }
  function timeEl(s, opts) {
    const d = parseTime(s);
    if (!d) return h('span', { class: 'muted', text: '—' });
    const text = fmt(opts && opts.dateOnly).format(d);
    return h('time', { datetime: s, title: d.toISOString() + ' (shown in ' + zoneLabel() + ')' }, text);
  }
  function relative(s) {
    const d = parseTime(s);
    if (!d) return '';
    const sec = (d - Date.now()) / 1000;
    const a = Math.abs(sec);
    if (a < 60) return relFmt.format(Math.round(sec), 'second');
    if (a < 3600) return relFmt.format(Math.round(sec / 60), 'minute');
    if (a < 86400) return relFmt.format(Math.round(sec / 3600), 'hour');
    if (a < 86400 * 45) return relFmt.format(Math.round(sec / 86400), 'day');
    if (a < 86400 * 600) return relFmt.format(Math.round(sec / (86400 * 30.4)), 'month');
    return relFmt.format(Math.round(sec / (86400 * 365)), 'year');
  }

  function say(text) {
    // Re-set so that the same message is announced again.
    el.status.textContent = '';
    window.setTimeout(() => { el.status.textContent = text; }, 30);
  }

  function busy(on) {
    state.busy = Math.max(0, state.busy + (on ? 1 : -1));
    el.progress.hidden = state.busy === 0;
  }

  // ---------- API ----------

  class ApiError extends Error {
    constructor(status, problem) {
      const p = problem || {};
      super(p.detail || p.title || (status ? 'HTTP ' + status : 'Network error'));
      this.status = status;
      this.problem = p;
    }
  }

  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }

  async function api(path, signal) {
    const t = token();
    if (!t) throw new ApiError(401, {});
    let res;
    try {
      res = await fetch(new URL(path, API), {
        headers: { Authorization: 'Bearer ' + t, Accept: 'application/json, application/problem+json' },
        cache: 'no-store', credentials: 'omit', signal,
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, { detail: 'Treue could not be reached. Check the connection and try again.' });
    }
    let body = null;
    if ((res.headers.get('Content-Type') || '').includes('json')) {
      try { body = await res.json(); } catch (e) { body = null; }
    }
    if (!res.ok) throw new ApiError(res.status, body);
    return body || {};
  }

  const enc = encodeURIComponent;

  // ---------- errors ----------

  function showError(lines, requestID) {
    el.error.replaceChildren(icon('alert'), h('div', null,
      lines.filter(Boolean).map((l) => h('p', { text: l })),
      requestID ? h('p', { class: 'rid', text: 'Request id ' + requestID }) : null));
    el.error.hidden = false;
  }
  function clearError() {
    el.error.hidden = true;
    el.error.replaceChildren();
  }

  // handle turns an API error into a message; notFound words a 404 for the context.
  function handle(err, notFound, retry) {
    if (err && err.name === 'AbortError') return;
    const p = (err && err.problem) || {};
    switch (err && err.status) {
      case 401:
        state.pending = retry || null;
        signOut(MSG_INVALID_TOKEN);
        return;
      case 403:
        showError([MSG_FORBIDDEN, p.detail], p.request_id);
        break;
      case 404:
        showError([notFound, p.detail], p.request_id);
        break;
      default:
        showError([err && err.status ? 'The request failed (' + err.status + (p.title ? ' ' + p.title : '') + ').' : '', err ? err.message : 'Unknown error.'], p.request_id);
    }
    el.error.scrollIntoView({ block: 'nearest' });
  }

  // ---------- sign-in ----------

  function showSignin(message) {
    el.app.hidden = true;
    $('nav').hidden = true;
    el.searchForm.hidden = true;
    el.signOut.hidden = true;
    el.signin.hidden = false;
    if (message) {
      el.signinError.replaceChildren(icon('alert'), h('p', { text: message }));
      el.signinError.hidden = false;
      el.token.setAttribute('aria-invalid', 'true');
      el.token.setAttribute('aria-errormessage', 'signin-error');
    } else {
      el.signinError.hidden = true;
      el.token.removeAttribute('aria-invalid');
    }
    el.token.value = '';
    el.token.focus();
  }

  function showApp() {
    el.signin.hidden = true;
    el.app.hidden = false;
    $('nav').hidden = false;
    el.searchForm.hidden = false;
    el.signOut.hidden = false;
  }

  function signOut(message) {
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage disabled */ }
    abortAll();
    showSignin(message);
  }

  // checkToken asks the API whether the token works before the app opens,
  // so that a wrong one is said at once, not at the first search.
  async function checkToken() {
    const me = await api('me');
    try {
      const res = await api('shops');
      loadShops(Array.isArray(res.shops) ? res.shops : []);
    } catch (e) { /* the shop field still takes a typed key */ }
    return me;
  }

  function loadShops(list) {
    state.shops = {};
    const dl = $('shop-list');
    dl.replaceChildren(...list.map((s) => {
      state.shops[s.key] = s;
      return h('option', { value: s.key, label: (s.name || s.key) + ' · ' + s.platform + ' · ' + s.timezone });
    }));
    if (!el.shop.value && list.length === 1) el.shop.value = list[0].key;
    const known = list.length ? 'Shops: ' + list.map((s) => s.key).join(', ') + '.' : 'No shop is configured yet (treue shops add).';
    $('shop-hint').textContent = known;
  }

  el.signinForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = el.token.value.trim().replace(/^bearer\s+/i, '');
    if (!t) {
      showSignin('Paste an API token to sign in.');
      return;
    }
    try { sessionStorage.setItem(TOKEN_KEY, t); } catch (e) { /* still works for this page */ }
    el.token.value = '';
    busy(true);
    try {
      await checkToken();
    } catch (e) {
      try { sessionStorage.removeItem(TOKEN_KEY); } catch (e2) { /* storage disabled */ }
      const p = (e && e.problem) || {};
      if (e && e.status === 401) showSignin('This token is not valid: it is wrong, expired or revoked. ' + (p.detail || ''));
      else if (e && e.status === 403) showSignin(MSG_FORBIDDEN + ' ' + (p.detail || ''));
      else showSignin((e && e.message) || 'Treue could not be reached.');
      return;
    } finally {
      busy(false);
    }
    showApp();
    clearError();
    const redo = state.pending;
    state.pending = null;
    if (redo) {
      redo();
    } else if (!routeFromHash()) {
      (el.shop.value ? el.q : el.shop).focus();
    }
  });

  el.signOut.addEventListener('click', () => {
    state.pending = null;
    signOut('');
    el.signinError.hidden = true;
  });

  // ---------- search ----------

  function abortAll() {
    for (const k of ['searchCtl', 'profileCtl', 'timelineCtl']) {
      if (state[k]) state[k].abort();
      state[k] = null;
    }
  }

  function validShop(shop) {
    return /^[a-z0-9][a-z0-9_-]{0,62}$/.test(shop);
  }

  el.searchForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const shop = el.shop.value.trim();
    const q = el.q.value.trim();
    el.shop.removeAttribute('aria-invalid');
    el.q.removeAttribute('aria-invalid');
    if (!validShop(shop)) {
      el.shop.setAttribute('aria-invalid', 'true');
      showError(['Enter the shop key (lower-case letters, digits, "-" or "_"), e.g. the one in the webhook URL.']);
      el.shop.focus();
      return;
    }
    if (!q) {
      el.q.setAttribute('aria-invalid', 'true');
      showError(['Enter an e-mail address, a customer number or the shop\'s customer id.']);
      el.q.focus();
      return;
    }
    try { localStorage.setItem(SHOP_KEY, shop); } catch (e) { /* not remembered */ }
    search(shop, q);
  });

  async function search(shop, q) {
    abortAll();
    clearError();
    showPage('customers');
    const ctl = new AbortController();
    state.searchCtl = ctl;
    busy(true);
    try {
      if (UUID_RE.test(q)) {
        // A Treue customer id: open it directly when it exists.
        try {
          await api('shops/' + enc(shop) + '/customers/' + enc(q), ctl.signal);
          state.results = null;
          openCustomer(shop, q.toLowerCase(), { push: true });
          return;
        } catch (e) {
          if (!(e instanceof ApiError) || e.status !== 404) throw e;
        }
      }
      const res = await api('shops/' + enc(shop) + '/customers?q=' + enc(q), ctl.signal);
      const list = Array.isArray(res.customers) ? res.customers : [];
      state.results = { shop, q, customers: list };
      if (list.length === 1) {
        openCustomer(shop, list[0].id, { push: true });
        return;
      }
      renderResults();
    } catch (e) {
      handle(e, 'Shop "' + shop + '" is not known to Treue.', () => search(shop, q));
    } finally {
      if (state.searchCtl === ctl) state.searchCtl = null;
      busy(false);
    }
  }

  function primaryName(c) {
    const ids = Array.isArray(c.identities) ? c.identities : [];
    const by = (k) => (ids.find((x) => x.kind === k) || {}).value;
    return { email: by('email'), number: by('number'), id: by('id') };
  }

  function describeIds(n) {
    const parts = [];
    if (n.number) parts.push('No. ' + n.number);
    if (n.id) parts.push('Shop id ' + n.id);
    return parts.join(' · ');
  }

  function renderResults() {
    const r = state.results;
    el.welcome.hidden = true;
    el.customer.hidden = true;
    el.results.hidden = false;
    setHash('');
    if (!r.customers.length) {
      el.resultsTitle.textContent = 'No customer found';
      el.resultsList.replaceChildren(h('li', { class: 'empty' },
        'No customer in shop "' + r.shop + '" matches "' + r.q + '". Check the spelling, or try the customer number or the shop\'s customer id.'));
      say('No customer found.');
    } else {
      el.resultsTitle.textContent = r.customers.length + ' customers match "' + r.q + '"';
      el.resultsList.replaceChildren(...r.customers.map((c) => {
        const n = primaryName(c);
        return h('li', null, h('button', {
          type: 'button', class: 'result', onclick: () => openCustomer(r.shop, c.id, { push: true }),
        },
        h('span', { class: 'who', text: n.email || n.number || n.id || c.id }),
        h('span', { class: 'badge stage stage-' + c.stage, text: STAGES[c.stage] || c.stage || 'unknown' }),
        h('span', { class: 'muted', text: plural(c.order_count || 0, 'order') }),
        c.last_order_at ? h('span', { class: 'muted' }, 'last ', timeEl(c.last_order_at, { dateOnly: true })) : null,
        h('span', { class: 'ids', text: describeIds(n) })));
      }));
      say(r.customers.length + ' customers found.');
    }
    el.resultsTitle.focus();
  }

  function plural(n, word) {
    return n + ' ' + word + (n === 1 ? '' : 's');
  }

  // ---------- customer ----------

  function setHash(h2) {
    const want = h2 ? '#' + h2 : '';
    if (location.hash === want) return;
    history.pushState(null, '', want || location.pathname + location.search);
  }

  // ---------- pages ----------

  // The nav switches between the customer search and the reports; a report
  // page draws itself on the treue:page event (loyalty.js).
  function showPage(name) {
    for (const p of ['customers', 'loyalty', 'rules', 'budget']) $(p + '-page').hidden = p !== name;
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.dispatchEvent(new CustomEvent('treue:page', { detail: { page: name } }));
  }

  function routeFromHash() {
    const r = /^#\/reports\/(loyalty|rules|budget)(\?.*)?$/.exec(location.hash);
    if (r) {
      abortAll();
      clearError();
      showPage(r[1]);
      return true;
    }
    const m = /^#\/([^/]+)\/customers\/([^/?#]+)$/.exec(location.hash);
    showPage('customers');
    if (!m) return false;
    const shop = decodeURIComponent(m[1]);
    const id = decodeURIComponent(m[2]);
    if (!el.shop.value) el.shop.value = shop;
    openCustomer(shop, id, { push: false });
    return true;
  }

  window.addEventListener('popstate', () => {
    if (!token()) return;
    if (routeFromHash()) return;
    abortAll();
    clearError();
    el.customer.hidden = true;
    state.current = null;
    if (state.results) renderResults();
    else el.welcome.hidden = false;
  });

  function openCustomer(shop, id, opts) {
    abortAll();
    clearError();
    state.current = { shop, id };
    if (opts.push) setHash('/' + enc(shop) + '/customers/' + enc(id));
    el.welcome.hidden = true;
    el.results.hidden = true;
    el.customer.hidden = false;
    const r = state.results;
    if (r && r.customers.length > 1) {
      el.back.textContent = '← Back to ' + r.customers.length + ' results for "' + r.q + '"';
      el.back.hidden = false;
    } else {
      el.back.hidden = true;
    }
    el.profile.setAttribute('aria-busy', 'true');
    el.profile.replaceChildren(h('h2', { id: 'profile-title', tabindex: '-1', text: 'Loading customer…' }),
      h('div', { class: 'skeleton' }), h('div', { class: 'skeleton' }));
    loadProfile(shop, id);
    loadTimeline(true);
  }

  el.back.addEventListener('click', () => {
    abortAll();
    state.current = null;
    el.customer.hidden = true;
    renderResults();
  });

  async function loadProfile(shop, id) {
    const ctl = new AbortController();
    state.profileCtl = ctl;
    busy(true);
    try {
      const p = await api('shops/' + enc(shop) + '/customers/' + enc(id), ctl.signal);
      if (!sameCustomer(shop, id)) return;
      renderProfile(p);
      const title = $('profile-title');
      title.focus();
      say('Customer ' + title.textContent + ' loaded.');
    } catch (e) {
      if (!sameCustomer(shop, id)) return;
      if (e && e.status === 404) {
        el.customer.hidden = true;
        el.welcome.hidden = false;
      }
      handle(e, 'There is no customer with id "' + id + '" in shop "' + shop + '".', () => openCustomer(shop, id, { push: false }));
    } finally {
      if (state.profileCtl === ctl) state.profileCtl = null;
      el.profile.setAttribute('aria-busy', 'false');
      busy(false);
    }
  }

  function sameCustomer(shop, id) {
    return state.current && state.current.shop === shop && state.current.id === id;
  }

  function money(amount, currency) {
    if (amount == null || amount === '') return '—';
    const n = Number(amount);
    if (currency && isFinite(n)) {
      try {
        return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(n);
      } catch (e) { /* unknown currency code */ }
    }
    return amount + (currency ? ' ' + currency : '');
  }

  function chips(list, max) {
    if (!Array.isArray(list) || !list.length) return h('span', { class: 'muted', text: 'none' });
    const shown = list.slice(0, max || 12);
    const ul = h('ul', { class: 'chips' }, shown.map((x) => h('li', { class: 'chip', text: x })));
    if (list.length > shown.length) ul.append(h('li', { class: 'chip muted', text: '+' + (list.length - shown.length) + ' more' }));
    return ul;
  }

  function renderProfile(p) {
    const n = primaryName(p);
    const name = p.name || n.email || n.number || n.id || p.id;
    const initial = (name || '?').trim().charAt(0).toUpperCase();
    const facts = [];
    const fact = (label, value) => { if (value != null && value !== '') facts.push(h('dt', { text: label }), h('dd', null, value)); };
    fact('Stage', h('span', { class: 'badge stage stage-' + p.stage, text: STAGES[p.stage] || p.stage }));
    if (p.tier) fact('Tier', p.tier);
    fact('First order', p.first_order_at ? timeEl(p.first_order_at) : 'none yet');
    fact('Last order', p.last_order_at ? h('span', null, timeEl(p.last_order_at), ' (' + relative(p.last_order_at) + ')') : 'none yet');
    if (p.reorder_interval_days) fact('Reorders every', Math.round(p.reorder_interval_days * 10) / 10 + ' days (median)');
    fact('Marketing consent', p.marketing_consent ? 'Yes' : 'No');
    if (Array.isArray(p.opted_out_categories) && p.opted_out_categories.length) fact('Opted out of', chips(p.opted_out_categories));
    fact('Categories', chips(p.categories));
    fact('SKUs', chips(p.skus, 8));
    if (p.birthday) fact('Birthday', p.birthday);
    if (p.referral_code) fact('Referral code', h('code', { text: p.referral_code }));
    if (p.referred_by) fact('Referred by', h('code', { text: p.referred_by }));
    if (p.holdout) fact('Holdout', 'Yes: in the control group, receives no marketing actions');
    const ids = Array.isArray(p.identities) ? p.identities : [];
    for (const x of ids) {
      fact({ email: 'E-mail', number: 'Customer number', id: 'Shop customer id' }[x.kind] || x.kind, x.value);
    }
    if (p.created_at) fact('Known since', timeEl(p.created_at, { dateOnly: true }));
    fact('Treue id', h('code', { class: 'uid', text: p.id }));

    const stat = (label, value) => h('div', null, h('dt', { text: label }), h('dd', { text: String(value) }));
    el.profile.replaceChildren(
      h('div', { class: 'profile-head' },
        h('span', { class: 'avatar', 'aria-hidden': 'true', text: initial }),
        h('div', { class: 'who' },
          h('h2', { id: 'profile-title', tabindex: '-1', text: name }),
          h('p', { class: 'sub', text: [p.name && n.email ? n.email : '', n.email ? describeIds(n) : '', p.shop ? 'Shop ' + p.shop : '', 'times in ' + zoneLabel()].filter(Boolean).join(' · ') }))),
      h('dl', { class: 'stats', 'aria-label': 'Key figures' },
        stat('Orders', p.order_count || 0),
        stat('Positive', p.positive_order_count || 0),
        stat('Returns', p.return_count || 0),
        h('div', { class: 'wide' }, h('dt', { text: 'Total spent' }), h('dd', { text: money(p.total_spent, p.currency) })),
        stat('Points', p.points_balance || 0)),
      // On a phone the details fold away so that the timeline is near.
      h('details', { class: 'facts-toggle', open: !narrow.matches },
        h('summary', { text: 'Profile details' }),
        h('dl', { class: 'facts' }, facts)));
  }

  // ---------- timeline ----------

  function buildTypeFilters() {
    const opt = (value, type, label, ic, group) => h('label', { class: 'opt', 'data-type': type },
      h('input', { type: 'checkbox', name: 'type', value, 'data-group': group }), icon(ic), label);
    el.typesEvents.append(...Object.entries(EVENTS).map(([t, [label, ic]]) => opt(t, t, label, ic, 'events')));
    el.typesActions.append(...Object.entries(ACTIONS).map(([t, [label, ic]]) => opt('action.' + t, 'action.' + t, label, ic, 'actions')));
  }

  function kind() {
    const r = el.filters.querySelector('input[name="kind"]:checked');
    return r ? r.value : 'all';
  }

  // typesParam is the API's types filter: chosen types of the shown kind, else the kind.
  function typesParam() {
    const k = kind();
    el.typesEvents.disabled = k === 'actions';
    el.typesActions.disabled = k === 'events';
    const chosen = [...el.filters.querySelectorAll('input[name="type"]:checked')]
      .filter((i) => k === 'all' || i.dataset.group === k).map((i) => i.value);
    el.typesCount.textContent = chosen.length ? String(chosen.length) : '';
    el.types.querySelector('summary').setAttribute('aria-label', chosen.length ? 'Types, ' + chosen.length + ' selected' : 'Types');
    if (chosen.length) return chosen.join(',');
    return k === 'all' ? '' : k;
  }

  let filterTimer = 0;
  el.filters.addEventListener('change', () => {
    typesParam();
    // Checking several boxes in a row reloads once.
    window.clearTimeout(filterTimer);
    filterTimer = window.setTimeout(() => { if (state.current) loadTimeline(true); }, 150);
  });
  el.filters.addEventListener('submit', (ev) => ev.preventDefault());
  el.typesClear.addEventListener('click', () => {
    for (const i of el.filters.querySelectorAll('input[name="type"]:checked')) i.checked = false;
    el.filters.dispatchEvent(new Event('change'));
  });
  el.types.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && el.types.open) {
      el.types.open = false;
      el.types.querySelector('summary').focus();
    }
  });
  document.addEventListener('click', (ev) => {
    if (el.types.open && !el.types.contains(ev.target)) el.types.open = false;
  });

  el.more.addEventListener('click', () => loadTimeline(false));

  async function loadTimeline(reset) {
    const cur = state.current;
    if (!cur) return;
    if (state.timelineCtl) state.timelineCtl.abort();
    const ctl = new AbortController();
    state.timelineCtl = ctl;
    if (reset) {
      state.cursor = '';
      state.loaded = 0;
      el.list.replaceChildren();
      el.empty.hidden = true;
      el.more.hidden = true;
      el.count.textContent = 'Loading…';
    }
    el.list.setAttribute('aria-busy', 'true');
    el.more.disabled = true;
    el.more.textContent = 'Loading…';
    busy(true);
    const types = typesParam();
    let path = 'shops/' + enc(cur.shop) + '/customers/' + enc(cur.id) + '/timeline?limit=' + PAGE;
    if (!reset && state.cursor) path += '&cursor=' + enc(state.cursor);
    if (types) path += '&types=' + enc(types);
    try {
      const res = await api(path, ctl.signal);
      if (state.current !== cur) return;
      const items = Array.isArray(res.items) ? res.items : [];
      const frag = document.createDocumentFragment();
      for (const it of items) frag.append(renderItem(it));
      const first = frag.firstElementChild;
      el.list.append(frag);
      state.loaded += items.length;
      state.cursor = res.next_cursor || '';
      el.more.hidden = !state.cursor;
      el.count.textContent = plural(state.loaded, 'entry').replace('entrys', 'entries') + (state.cursor ? ', more available' : '') + (types ? ' (filtered)' : '');
      if (!state.loaded) {
        el.empty.textContent = types ? 'Nothing of the chosen types in this timeline.' : 'No events or actions recorded for this customer yet.';
        el.empty.hidden = false;
      }
      if (!reset) {
        if (first) first.focus();
        say(items.length + ' more entries loaded.' + (state.cursor ? '' : ' That is all.'));
      } else if (types) {
        say(el.count.textContent + '.');
      }
    } catch (e) {
      if (state.current !== cur) return;
      el.count.textContent = '';
      handle(e, 'The timeline of this customer was not found.', () => openCustomer(cur.shop, cur.id, { push: false }));
    } finally {
      if (state.timelineCtl === ctl) state.timelineCtl = null;
      el.list.setAttribute('aria-busy', 'false');
      el.more.disabled = false;
      el.more.textContent = 'Load more';
      busy(false);
    }
  }

  function jsonDetails(label, value) {
    if (value == null || (typeof value === 'object' && !Object.keys(value).length)) return null;
    const pre = h('pre');
    const d = h('details', { class: 'raw' }, h('summary', { text: label }), pre);
    // Rendered on first open: most are never looked at.
    d.addEventListener('toggle', () => {
      if (d.open && !pre.textContent) pre.textContent = JSON.stringify(value, null, 2);
    });
    return d;
  }

  // orderLabel names an order by the number the shop shows (10042), with the
  // shop's internal id on hover.
  function orderLabel(it) {
    if (it.order_number) return h('span', { title: 'Shop order id ' + it.order_ref }, 'Order ', h('code', { text: it.order_number }));
    return h('span', null, 'Order ', h('code', { text: it.order_ref }));
  }

  function renderItem(it) {
    return it.kind === 'action' ? renderAction(it) : renderEvent(it);
  }

  function renderEvent(it) {
    const [label, ic] = EVENTS[it.type] || [it.type || 'Event', 'dot'];
    const meta = [];
    if (it.order_ref) meta.push(orderLabel(it));
    if (it.platform) meta.push(h('span', { text: 'via ' + it.platform }));
    if (it.received_at && it.received_at !== it.at) meta.push(h('span', null, 'received ', timeEl(it.received_at)));
    if (it.id) meta.push(h('span', null, 'Event ', h('code', { text: it.id })));
    return h('li', { class: 'item event', 'data-type': it.type, 'data-id': it.id, tabindex: '-1' },
      h('span', { class: 'marker' }, icon(ic)),
      h('div', { class: 'body' },
        h('div', { class: 'head' },
          h('span', { class: 'kind', text: 'Event' }),
          h('h3', { text: label }),
          timeEl(it.at)),
        it.summary ? h('p', { class: 'summary', text: it.summary }) : null,
        meta.length ? h('p', { class: 'meta' }, meta) : null,
        jsonDetails('Event data', it.data)));
  }

  function renderAction(it) {
    const [label, ic] = ACTIONS[it.type] || [it.type || 'Action', 'dot'];
    let [stLabel, stHelp] = STATUSES[it.status] || [it.status || 'unknown', ''];
    if (it.status === 'suppressed' && it.reason === 'holdout') {
      [stLabel, stHelp] = ['Held out', 'In the holdout group: recorded, never sent, so that the rule\'s effect can be measured against it.'];
    }
    const why = [];
    const row = (k, v, full) => why.push(h('div', { class: full ? 'full' : null }, h('dt', { text: k }), h('dd', null, v)));
    row('Rule', h('code', { class: 'rule', text: it.rule_id || '—' }));
    row('Rules version', h('code', { text: it.rules_version || '—' }));
    const trig = it.trigger_event;
    if (trig && (trig.id || trig.type)) {
      const tl = (EVENTS[trig.type] || [trig.type])[0];
      const parts = [tl + ' '];
      if (trig.id) {
        parts.push(h('button', {
          type: 'button', class: 'link', title: 'Show the triggering event in the timeline',
          onclick: () => jumpTo(trig.id),
        }, h('code', { text: trig.id })));
      }
      row('Triggered by', h('span', null, parts));
    } else {
      row('Triggered by', /scan/.test(it.why || '') ? 'the periodic scan' : '—');
    }
    const needsReason = it.status === 'suppressed' || it.status === 'cancelled' || it.status === 'dead';
    if (it.reason || needsReason) row('Reason', h('span', { class: needsReason ? 'reason' : null, text: it.reason || 'not recorded' }), true);
    if (it.waiting) row('Waiting', h('span', { class: 'waiting', text: it.waiting }), true);
    const when = [];
    if (it.order_ref) when.push(orderLabel(it));
    if (it.due_at) when.push(h('span', null, 'Due ', timeEl(it.due_at), it.status === 'scheduled' || it.status === 'retrying' ? ' (' + relative(it.due_at) + ')' : ''));
    if (it.sent_at) when.push(h('span', null, 'Sent ', timeEl(it.sent_at)));
    if (it.attempts) when.push(h('span', { text: plural(it.attempts, 'attempt') }));
    return h('li', { class: 'item action', 'data-type': 'action.' + it.type, 'data-status': it.status, 'data-id': it.id, tabindex: '-1' },
      h('span', { class: 'marker' }, icon(ic)),
      h('div', { class: 'body' },
        h('div', { class: 'head' },
          h('span', { class: 'kind', text: 'Action' }),
          h('h3', { text: label }),
          h('span', { class: 'badge st-' + it.status, title: stHelp, text: stLabel }),
          timeEl(it.at)),
        it.why ? h('p', { class: 'summary', text: it.why }) : null,
        h('div', { class: 'why', role: 'group', 'aria-label': 'Why' },
          h('span', { class: 'why-title', 'aria-hidden': 'true', text: 'Why' }),
          h('dl', null, why)),
        when.length ? h('p', { class: 'meta' }, when) : null,
        jsonDetails('Parameters', it.params)));
  }

  function jumpTo(id) {
    const target = [...el.list.querySelectorAll('li.event')].find((li) => li.dataset.id === String(id));
    if (!target) {
      say('The triggering event is not on the loaded pages; load more or clear the filters.');
      return;
    }
    target.scrollIntoView({ block: 'center', behavior: 'smooth' });
    target.focus({ preventScroll: true });
    target.classList.add('flash');
    window.setTimeout(() => target.classList.remove('flash'), 1500);
  }

  // ---------- keyboard ----------

  document.addEventListener('keydown', (ev) => {
    if (ev.key !== '/' || ev.ctrlKey || ev.metaKey || ev.altKey || el.app.hidden) return;
    const t = ev.target;
    if (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    ev.preventDefault();
    el.q.focus();
    el.q.select();
  });

  document.querySelector('.skip').addEventListener('click', (ev) => {
    ev.preventDefault();
    const target = el.app.hidden ? el.signinTitle : (!el.customer.hidden ? $('profile-title') : (!el.results.hidden ? el.resultsTitle : $('main')));
    (target || $('main')).focus();
  });

  // svg builds an SVG element, as h builds an HTML one.
  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v != null) e.setAttribute(k, String(v));
    }
    for (const k of kids) {
      if (k == null) continue;
      e.append(typeof k === 'string' ? document.createTextNode(k) : k);
    }
    return e;
  }

  // reportPage wires a report page (loyalty.js, rules.js): its route
  // (#/reports/NAME?shop=&from=&to=), its period form and the header's shop
  // field. It fetches shops/SHOP/reports/NAME and hands the answer to
  // render; what, the words for the report, go into the progress line.
  function reportPage(name, what, render) {
    const page = $(name + '-page');
    const form = $(name + '-form');
    const fromEl = $(name + '-from');
    const toEl = $(name + '-to');
    const body = $(name + '-body');
    const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
    let ctl = null;
    const hashParams = () => {
      const i = location.hash.indexOf('?');
      return new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1));
    };
    const period = (q = new URLSearchParams()) => {
      if (fromEl.value) q.set('from', fromEl.value);
      if (toEl.value) q.set('to', toEl.value);
      return q;
    };
    async function load() {
      const shop = el.shop.value.trim();
      clearError();
      if (!validShop(shop)) {
        body.replaceChildren(h('p', { class: 'empty', text: 'Enter the shop key in the Shop field above, then choose Show.' }));
        el.shop.focus();
        return;
      }
      if (ctl) ctl.abort();
      const mine = new AbortController();
      ctl = mine;
      const q = period();
      body.setAttribute('aria-busy', 'true');
      body.replaceChildren(h('p', { class: 'muted', text: 'Computing the ' + what + ' of shop ' + shop + '…' }));
      busy(true);
      try {
        const r = await api('shops/' + enc(shop) + '/reports/' + name + (q.toString() ? '?' + q : ''), mine.signal);
        if (ctl !== mine) return;
        // Remembered as the search remembers it, for the next visit.
        try { localStorage.setItem(SHOP_KEY, shop); } catch (e) { /* not remembered */ }
        fromEl.value = r.from || '';
        toEl.value = r.to || '';
        render(r);
        $(name + '-title').focus();
        say('The ' + what + ' of shop ' + r.shop + ' from ' + r.from + ' to ' + r.to + ' loaded.');
      } catch (e) {
        if (ctl !== mine || (e && e.name === 'AbortError')) return;
        body.replaceChildren();
        handle(e, 'Shop "' + shop + '" is not known to Treue.', () => load());
      } finally {
        if (ctl === mine) ctl = null;
        body.setAttribute('aria-busy', 'false');
        busy(false);
      }
    }
    const open = () => {
      const q = hashParams();
      if (q.get('shop') && !el.shop.value) el.shop.value = q.get('shop');
      if (DATE_RE.test(q.get('from') || '')) fromEl.value = q.get('from');
      if (DATE_RE.test(q.get('to') || '')) toEl.value = q.get('to');
      load();
    };
    document.addEventListener('treue:page', (ev) => {
      if (ev.detail.page === name) open();
      else if (ctl) ctl.abort();
    });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      if (el.shop.value.trim()) q.set('shop', el.shop.value.trim());
      period(q);
      const want = '#/reports/' + name + (q.toString() ? '?' + q : '');
      if (location.hash !== want) history.replaceState(null, '', want);
      load();
    });
    // Another shop in the header's field shows that shop's report.
    el.shop.addEventListener('change', () => { if (!page.hidden) load(); });
    // The page scripts load after the routing: pick up a page already open.
    if (!page.hidden) open();
    return { page, body };
  }

  // What the report pages share with the search (loyalty.js, rules.js).
  window.TreueConsole = Object.freeze({
    api, handle, busy, say, h, svg, clearError, validShop, reportPage,
    shop: () => el.shop.value.trim(),
    shopInfo: (key) => state.shops[key],
    focusShop: () => el.shop.focus(),
  });

  // ---------- start ----------

  buildTypeFilters();
  try { el.shop.value = localStorage.getItem(SHOP_KEY) || ''; } catch (e) { /* none remembered */ }
  if (token()) {
    showApp();
    checkToken().catch((e) => handle(e, '', null));
    if (!routeFromHash()) (el.shop.value ? el.q : el.shop).focus();
  } else {
    showSignin('');
  }
})();
