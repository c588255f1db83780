// Treue console, Rules page (#/reports/rules): per rule, its customers
// against the holdout group, with the uplift's 95 % interval drawn as an
// error bar and the sends per week as a sparkline. Hand-drawn SVG, no
// library: two small shapes do not need one, and nothing loads from a CDN.
// Text from the API is inserted as text.
'use strict';
(() => {
  const C = window.TreueConsole;
  if (!C) return;
  const { h, svg } = C;

  // pct writes a rate 0..1 as a percentage with one decimal.
  const pct = (r) => (Math.round(r * 1000) / 10).toFixed(1) + ' %';
  // pts writes a difference of rates in percentage points, signed.
  const pts = (d) => (d >= 0 ? '+' : '−') + (Math.round(Math.abs(d) * 1000) / 10).toFixed(1);

  const { body } = C.reportPage('rules', 'rules report', render);

  // sparkline draws the sends of the weeks that had any (the API lists no
  // empty weeks), oldest first; the title lists them.
  function sparkline(weeks) {
    const W = 96, H = 24;
    if (!weeks || !weeks.length) return h('span', { class: 'none', text: 'none sent' });
    const n = weeks.map((w) => w.sent);
    const max = Math.max(1, ...n);
    const step = weeks.length > 1 ? W / (weeks.length - 1) : 0;
    const pts2 = n.map((v, i) => (i * step).toFixed(1) + ',' + (H - (v / max) * H).toFixed(1)).join(' ');
    const total = n.reduce((a, b) => a + b, 0);
    const s = svg('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img',
      'aria-label': total + ' sent over ' + weeks.length + ' weeks, at most ' + max + ' a week' },
    svg('title', null, weeks.map((w) => w.week + ': ' + w.sent).join(', ')),
    weeks.length > 1 ? svg('polyline', { class: 'spark', points: pts2 }) : svg('circle', { cx: 0, cy: H / 2, r: 2, class: 'spark' }));
    return h('span', null, s, h('span', { class: 'counts', text: total + ' sent' }));
  }

  // errorBar draws the uplift and its interval on an axis from −span to
  // +span percentage points, 0 marked.
  function errorBar(u, span) {
    const W = 160, H = 26, mid = W / 2;
    const x = (d) => mid + (d / span) * (W / 2 - 4);
    const cls = u.ci_low > 0 ? 'uplift-pos' : (u.ci_high < 0 ? 'uplift-neg' : 'uplift-zero');
    return svg('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img', class: 'uplift-bar',
      'aria-label': 'uplift ' + pts(u.absolute) + ' points, 95 % interval ' + pts(u.ci_low) + ' to ' + pts(u.ci_high) },
    svg('line', { class: 'axis', x1: 0, y1: H / 2, x2: W, y2: H / 2 }),
    svg('line', { class: 'axis', x1: mid, y1: 3, x2: mid, y2: H - 3 }),
    svg('line', { class: cls, x1: x(u.ci_low), y1: H / 2, x2: x(u.ci_high), y2: H / 2, 'stroke-width': 3 }),
    svg('line', { class: cls, x1: x(u.ci_low), y1: H / 2 - 5, x2: x(u.ci_low), y2: H / 2 + 5, 'stroke-width': 2 }),
    svg('line', { class: cls, x1: x(u.ci_high), y1: H / 2 - 5, x2: x(u.ci_high), y2: H / 2 + 5, 'stroke-width': 2 }),
    svg('circle', { class: cls, cx: x(u.absolute), cy: H / 2, r: 4 }));
  }

  function group(g) {
    if (!g) return h('span', { class: 'none', text: 'no holdout' });
    const rate = g.rate == null ? h('span', { class: 'none', text: 'not enough data' }) : h('span', { text: pct(g.rate) });
    return h('span', null, rate, h('span', { class: 'counts', text: g.converted + ' of ' + g.customers + ' customers' }));
  }

  function money(v, currency) {
    if (v == null) return h('span', { class: 'none', text: '—' });
    const n = Number(v);
    try {
      return h('span', { text: new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'EUR' }).format(n) });
    } catch (e) {
      return h('span', { text: v + ' ' + (currency || '') });
    }
  }

  function render(r) {
    if (!r.rules.length) {
      body.replaceChildren(h('p', { class: 'empty', text: 'No rule planned an action due between ' + r.from + ' and ' + r.to + '.' }));
      return;
    }
    // One scale for every bar, so that lengths compare across rules.
    let span = 0.05;
    for (const x of r.rules) if (x.uplift) span = Math.max(span, Math.abs(x.uplift.ci_low), Math.abs(x.uplift.ci_high));
    const rows = r.rules.map((x) => {
      const u = x.uplift;
      const cost = x.cost || {};
      const costParts = [];
      if (cost.codes_redeemed) costParts.push(cost.codes_redeemed + ' codes redeemed, ' + cost.code_value + ' off');
      if (cost.samples_sent) costParts.push(cost.samples_sent + ' samples' + (cost.sample_value != null ? ', ' + cost.sample_value : ' (no catalog cost)'));
      if (cost.points_awarded) costParts.push(cost.points_awarded + ' points' + (cost.points_value != null ? ', ' + cost.points_value : ' (no points.value)'));
      return h('tr', { 'data-rule': x.rule_id },
        h('td', { 'data-label': 'Rule' }, h('span', { class: 'rule-id', text: x.rule_id }),
          h('span', { class: 'counts', text: x.action_type + ' · judged by ' + (x.conversion === 'review' ? 'a review' : 'an order') + ' within ' + x.window_days + ' days' })),
        h('td', { 'data-label': 'Sends per week' }, sparkline(x.sends_per_week)),
        h('td', { class: 'num treatment', 'data-label': 'Treatment' }, group(x.treatment)),
        h('td', { class: 'num holdout', 'data-label': 'Holdout' }, group(x.holdout)),
        h('td', { class: 'num uplift', 'data-label': 'Uplift' }, u
          ? h('span', null, errorBar(u, span), h('span', { class: 'counts', text: pts(u.absolute) + ' points [' + pts(u.ci_low) + ', ' + pts(u.ci_high) + ']' + (u.significant ? ', the interval excludes 0' : ', the interval includes 0') }))
          : h('span', { class: 'none', text: x.holdout ? 'not enough data' : '—' })),
        h('td', { class: 'num revenue', 'data-label': 'Incremental revenue' }, money(x.incremental_revenue, r.currency)),
        h('td', { class: 'cost', 'data-label': 'Cost' }, costParts.length
          ? h('span', null, money(cost.total, r.currency), h('span', { class: 'counts', text: costParts.join('; ') }))
          : h('span', { class: 'none', text: 'none' })),
        h('td', { class: 'note', 'data-label': 'Note' }, [x.note, x.maturing ? x.maturing + ' customers still in their window' : ''].filter(Boolean).join('. ')));
    });
    const th = (t) => h('th', { scope: 'col', text: t });
    body.replaceChildren(
      h('table', { class: 'rules-table' },
        h('caption', { class: 'visually-hidden', text: 'Rules of shop ' + r.shop + ', actions due ' + r.from + ' to ' + r.to }),
        h('thead', null, h('tr', null, th('Rule'), th('Sends per week'), th('Treatment'), th('Holdout'), th('Uplift (95 % interval)'),
          th('Incremental revenue'), th('Cost'), th('Note'))),
        h('tbody', null, rows)),
      h('p', { class: 'muted', text: 'Customers count once per rule. Rates below ' + r.min_sample + ' customers a group are not shown. ' +
        'Treatment includes every customer the rule planned for (sent, or held back by consent or a cap), so guardrails cannot bias the comparison.' }));
  }
})();
