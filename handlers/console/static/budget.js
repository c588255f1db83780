// Treue console, Budget page (#/reports/budget): per month the incentive
// spend against the shop's monthly budget, a horizontal bar split by rule
// with the budget marked, the figures beside it, and the spend per rule and
// month as a table (the chart's text equivalent). Hand-drawn SVG in
// percentages, so the bars need no redraw when the page resizes. Text from
// the API is inserted as text.
'use strict';
(() => {
  const C = window.TreueConsole;
  if (!C) return;
  const { h, svg } = C;
  const $ = (id) => document.getElementById(id);
  const COLOURS = 8; // .bud-c0 … .bud-c7, reused past the eighth rule

  // num writes an amount "1234.50" as the browser groups it: 1,234.50.
  const numFmt = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const num = (v) => numFmt.format(Number(v));
  const cents = (v) => Math.round(Number(v) * 100);
  const plural = (n, one, many) => n + ' ' + (n === 1 ? one : many);

  const monthFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', timeZone: 'UTC' });
  function monthEl(m) {
    const [y, mo] = m.split('-').map(Number);
    return h('time', { datetime: m }, monthFmt.format(new Date(Date.UTC(y, mo - 1, 1))));
  }
  // nextMonth gives the first day of the month after m ("2026-12" → "2027-01-01").
  function nextMonth(m) {
    const [y, mo] = m.split('-').map(Number);
    return mo === 12 ? (y + 1) + '-01-01' : y + '-' + String(mo + 1).padStart(2, '0') + '-01';
  }

  const { body } = C.reportPage('budget', 'budget report', render);

  function render(r) {
    const months = Array.isArray(r.months) ? r.months : [];
    // The API answers in months; the form shows the days they cover.
    if (r.from) $('budget-from').value = r.from + '-01';
    if (r.to) $('budget-to').value = nextMonth(r.to);
    // One colour and number per rule across the period, in the API's order
    // (the legend's key, repeated in the table beside the chart).
    const ruleIDs = [...new Set(months.flatMap((m) => (m.rules || []).map((x) => x.rule_id)))].sort();
    const idx = new Map(ruleIDs.map((id, i) => [id, i]));
    const period = h('p', { class: 'muted loy-period-text', text: 'Shop ' + r.shop + ', months ' + r.from + ' to ' + r.to +
      (r.monthly != null ? ', budget ' + num(r.monthly) + ' ' + r.currency + ' a month.' : '.') });
    const spent = months.some((m) => m.actions > 0 || m.held > 0);
    if (r.monthly == null) {
      body.replaceChildren(...[period, noBudget(r), spent ? tableSection(r, months, ruleIDs, idx) : null].filter(Boolean));
      return;
    }
    body.replaceChildren(period, chartSection(r, months, ruleIDs, idx), tableSection(r, months, ruleIDs, idx));
  }

  // noBudget says plainly that there is nothing to draw against, and how to set a budget.
  function noBudget(r) {
    return h('section', { class: 'card loy-section bud-none', id: 'budget-none' },
      h('h2', { text: 'No budget configured' }),
      h('p', { text: 'The rules file in force sets no monthly incentive budget, so there is nothing to draw the spend against. ' +
        'To cap the cost of codes, samples and points each month, add to the rules file:' }),
      h('pre', null, h('code', { text: 'budget: {monthly: "2000.00", currency: ' + (r.currency || 'EUR') + '}' })),
      h('p', { class: 'muted', text: 'Once the month\'s budget is spent, further costed actions are held back with the reason budget_exhausted. See "Incentive budget" in docs/rules.md.' }));
  }

  function chartSection(r, months, ruleIDs, idx) {
    const budgetCents = cents(r.monthly);
    // One scale for all months; a month over the budget (the budget was
    // lowered) runs past the marker.
    const scale = Math.max(budgetCents, ...months.map((m) => m.spent_cents), 1);
    const at = (c) => (c / scale * 100).toFixed(3) + '%';
    const rows = months.map((m) => {
      const label = m.month + ': ' + (m.actions || m.held ? figures(r, m, budgetCents) : 'nothing spent yet') +
        (m.spent_cents > budgetCents ? ', over the budget' : '') +
        ((m.rules || []).length ? '; ' + m.rules.filter((x) => x.actions).map((x) => x.rule_id + ' ' + num(x.spent)).join(', ') : '');
      const s = svg('svg', { class: 'bud-svg', width: '100%', height: 28, role: 'img', 'aria-label': label },
        svg('rect', { class: 'bud-track', x: 0, y: 4, width: at(budgetCents), height: 20, rx: 3 }));
      let x = 0;
      for (const rr of m.rules || []) {
        const c = cents(rr.spent);
        if (!c) continue;
        const i = idx.get(rr.rule_id);
        const g = svg('g', { class: 'bud-seg', 'data-rule': rr.rule_id },
          svg('rect', { class: 'bud-c' + (i % COLOURS), x: at(x), y: 4, width: at(c), height: 20 },
            svg('title', null, m.month + ' · ' + rr.rule_id + ': ' + num(rr.spent) + ' ' + r.currency + ', ' + plural(rr.actions, 'action', 'actions'))));
        // The legend's number on the segment where it fits: colour is not the only key.
        if (c / scale >= 0.04) g.append(svg('text', { class: 'bud-num', x: at(x + c / 2), y: 18, 'text-anchor': 'middle' }, String(i + 1)));
        s.append(g);
        x += c;
      }
      s.append(svg('line', { class: 'bud-marker', x1: at(budgetCents), x2: at(budgetCents), y1: 0, y2: 28 },
        svg('title', null, 'budget ' + num(r.monthly) + ' ' + r.currency)));
      const fig = h('div', { class: 'bud-figures' });
      if (!m.actions && !m.held) {
        fig.append(h('span', { class: 'bud-main bud-nothing', text: 'nothing spent yet' }));
      } else {
        fig.append(h('span', { class: 'bud-main', text: figures(r, m, budgetCents) }),
          h('span', { class: 'bud-actions', text: plural(m.actions, 'costed action', 'costed actions') }));
      }
      if (m.spent_cents > budgetCents) fig.append(h('span', { class: 'bud-overrun', text: 'over the budget by ' + num((m.spent_cents - budgetCents) / 100) + ' ' + r.currency }));
      if (m.held) fig.append(h('span', { class: 'bud-held', text: plural(m.held, 'action', 'actions') + ' held back (budget_exhausted), ' + num(m.held_value) + ' ' + r.currency }));
      return h('li', { class: 'bud-row' + (m.spent_cents > budgetCents ? ' bud-over' : ''), 'data-month': m.month },
        h('span', { class: 'bud-month' }, monthEl(m.month)), h('div', { class: 'bud-bar' }, s), fig);
    });
    const legend = ruleIDs.length
      ? h('ul', { class: 'loy-legend bud-legend', id: 'budget-legend' }, ruleIDs.map((id, i) =>
        h('li', { 'data-rule': id }, h('span', { class: 'loy-swatch bud-c' + (i % COLOURS), 'aria-hidden': 'true' }),
          h('span', { class: 'bud-key', text: String(i + 1) }), id)),
      h('li', { class: 'bud-legend-marker' }, h('span', { class: 'bud-marker-key', 'aria-hidden': 'true' }), 'the monthly budget'))
      : null;
    return h('section', { class: 'card loy-section', 'aria-labelledby': 'budget-chart-title' },
      h('h2', { id: 'budget-chart-title', text: 'Spend against the budget' }),
      h('p', { class: 'muted', text: 'Per month, the cost of the actions due in it that are scheduled, on their way or sent, split by rule from left to right in the order of the legend; the line is the budget of ' + num(r.monthly) + ' ' + r.currency + '. The table below gives every figure.' }),
      h('ol', { class: 'bud-chart', id: 'budget-chart' }, rows), legend);
  }

  // figures: "1,234.50 of 2,000.00 EUR, 62 %".
  function figures(r, m, budgetCents) {
    const share = budgetCents > 0 ? ', ' + Math.round(m.spent_cents * 100 / budgetCents) + ' %' : '';
    return num(m.spent) + ' of ' + num(r.monthly) + ' ' + r.currency + share;
  }

  function tableSection(r, months, ruleIDs, idx) {
    const cell = (spentV, actions, held, heldV) => {
      const td = h('td', { class: 'num' });
      if (!actions && !held) {
        td.append(h('span', { class: 'none', text: '—' }));
        return td;
      }
      td.append(h('span', { class: 'bud-spent', text: num(spentV) }), h('span', { class: 'counts', text: plural(actions, 'action', 'actions') }));
      if (held) td.append(h('span', { class: 'counts bud-held', text: held + ' held back, ' + num(heldV) }));
      return td;
    };
    const rows = ruleIDs.map((id) => {
      let sc = 0, sa = 0, hc = 0, ha = 0;
      const cells = months.map((m) => {
        const x = (m.rules || []).find((y) => y.rule_id === id);
        if (!x) return cell(0, 0, 0, 0);
        sc += cents(x.spent); sa += x.actions; hc += cents(x.held_value); ha += x.held;
        return cell(x.spent, x.actions, x.held, x.held_value);
      });
      return h('tr', { 'data-rule': id },
        h('th', { scope: 'row' }, r.monthly != null ? h('span', { class: 'bud-key', text: String(idx.get(id) + 1) }) : null, id),
        cells, cell((sc / 100).toFixed(2), sa, ha, (hc / 100).toFixed(2)));
    });
    let tc = 0, ta = 0, thc = 0, tha = 0;
    const totals = months.map((m) => {
      tc += m.spent_cents; ta += m.actions; thc += cents(m.held_value); tha += m.held;
      return cell(m.spent, m.actions, m.held, m.held_value);
    });
    const foot = [h('tr', { class: 'bud-total', 'data-rule': '(all)' }, h('th', { scope: 'row', text: 'All rules' }), totals,
      cell((tc / 100).toFixed(2), ta, tha, (thc / 100).toFixed(2)))];
    if (r.monthly != null) {
      foot.push(h('tr', { class: 'bud-remaining' }, h('th', { scope: 'row', text: 'Remaining' }),
        months.map((m) => h('td', { class: 'num', text: m.remaining == null ? '—' : num(m.remaining) })), h('td', { class: 'num', text: '' })));
    }
    const th = (t) => h('th', { scope: 'col' }, t);
    return h('section', { class: 'card loy-section', 'aria-labelledby': 'budget-table-title' },
      h('h2', { id: 'budget-table-title', text: 'Spend per rule' }),
      ruleIDs.length
        ? h('div', { class: 'loy-scroll' }, h('table', { class: 'loy-table bud-table', id: 'budget-table' },
          h('caption', { class: 'visually-hidden', text: 'Incentive spend per rule and month in ' + r.currency + ', with the actions behind it and those held back by the budget' }),
          h('thead', null, h('tr', null, th('Rule'), months.map((m) => h('th', { scope: 'col', 'data-month': m.month }, monthEl(m.month))), th('Period'))),
          h('tbody', null, rows), h('tfoot', null, foot)))
        : h('p', { class: 'empty', text: 'Nothing spent yet: no costed action is due in these months.' }));
  }
})();
