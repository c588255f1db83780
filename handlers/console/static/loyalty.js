// Treue console, Loyalty page (#/reports/loyalty): the shop's repurchase
// figures, the share of customers per stage over the months (a stacked bar
// chart drawn as SVG, with the counts as a table) and the cohort grid. Plain
// JavaScript, no dependencies; text from the API is inserted as text.
'use strict';
(() => {
  const C = window.TreueConsole;
  if (!C) return;
  const { h, svg } = C;
  const $ = (id) => document.getElementById(id);
  const STAGES = [
    ['new', 'New'], ['first_purchase', 'First purchase'], ['second_positive', 'Second positive'],
    ['loyal', 'Loyal'], ['at_risk', 'At risk'], ['lapsed', 'Lapsed'],
  ];
  let shown = null; // the report on the page, for redrawing the chart

  // pct writes a rate 0..1 as a percentage, rounded half up as the CLI does.
  function pct(r) {
    return (Math.round(r * 1000) / 10).toFixed(1) + ' %';
  }

  const monthFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', timeZone: 'UTC' });
  const shortFmt = new Intl.DateTimeFormat(undefined, { month: 'short', timeZone: 'UTC' });
  function monthDate(m) {
    const [y, mo] = m.split('-').map(Number);
    return new Date(Date.UTC(y, mo - 1, 1));
  }
  function monthEl(m) {
    return h('time', { datetime: m }, monthFmt.format(monthDate(m)));
  }

  const { page, body } = C.reportPage('loyalty', 'loyalty figures', render);

  // ---------- rendering ----------

  function render(r) {
    shown = r;
    const rp = r.repurchase || {};
    const w90 = rp.within_90_days || {};
    const gaps = r.days_between_orders || {};
    const card = (figure, title, value, counts, note) => h('div', { class: 'card loy-card', 'data-figure': figure },
      h('h2', { text: title }),
      h('p', { class: 'loy-value' + (value == null ? ' loy-none' : ''), text: value == null ? 'not enough data' : value }),
      h('p', { class: 'loy-counts', text: counts }),
      note ? h('p', { class: 'loy-note', text: note }) : null);
    const cards = h('div', { class: 'loy-cards' },
      card('customers', 'Customers', String(r.customers), 'with a counted order before ' + r.to + ' (not cancelled, not a test)'),
      card('repurchase', 'Repurchase rate', rp.rate == null ? null : pct(rp.rate),
        rp.repeat_customers + ' of ' + rp.customers + ' customers whose first order is in the period ordered again', rp.note),
      card('repurchase-90', 'Again within 90 days', w90.rate == null ? null : pct(w90.rate),
        w90.repeat_customers + ' of ' + rp.customers + ' customers', rp.note),
      card('days-between-orders', 'Median days between orders', gaps.median == null ? null : gaps.median.toFixed(1) + ' days',
        'from ' + gaps.gaps + ' gaps between consecutive orders in the period', gaps.note));
    const period = h('p', { class: 'muted loy-period-text' },
      'Shop ' + r.shop + ', ' + r.from + ' to ' + r.to + ' (not included), days in ' + r.timezone +
      '. A rate needs ' + r.min_sample + ' customers.');
    body.replaceChildren(period, cards, stagesSection(r), cohortsSection(r));
  }

  // stagesSection: a stacked bar per month (100 % = the customers known at
  // the month's end), a legend, and the counts as a table.
  function stagesSection(r) {
    const months = Array.isArray(r.stages) ? r.stages : [];
    const chart = h('div', { class: 'loy-chart', id: 'loyalty-chart' });
    const legend = h('ul', { class: 'loy-legend', 'aria-hidden': 'true' },
      STAGES.map(([k, label]) => h('li', null, h('span', { class: 'loy-swatch seg-' + k }), label)));
    const table = h('table', { class: 'loy-table', id: 'loyalty-stages-table' },
      h('caption', { class: 'visually-hidden', text: 'Customers per stage at each month\'s end' }),
      h('thead', null, h('tr', null, h('th', { scope: 'col', text: 'Month' }),
        STAGES.map(([k, label]) => h('th', { scope: 'col', 'data-stage': k, text: label })),
        h('th', { scope: 'col', text: 'Total' }))),
      h('tbody', null, months.map((m) => {
        const total = STAGES.reduce((n, [k]) => n + (m.counts[k] || 0), 0);
        return h('tr', { 'data-month': m.month }, h('th', { scope: 'row' }, monthEl(m.month)),
          STAGES.map(([k]) => h('td', { 'data-stage': k, text: String(m.counts[k] || 0) })),
          h('td', { 'data-stage': 'total', text: String(total) }));
      })));
    const sec = h('section', { class: 'card loy-section', 'aria-labelledby': 'loyalty-stages-title' },
      h('h2', { id: 'loyalty-stages-title', text: 'Customers per stage' }),
      h('p', { class: 'muted', text: 'Share of the customers known at each month\'s end (the month so far for the current one), by lifecycle stage.' }),
      chart, legend,
      h('details', { class: 'loy-details', open: months.length <= 3 },
        h('summary', { text: 'Counts as a table' }), h('div', { class: 'loy-scroll' }, table)));
    // Drawn once the section is in the page, at the width it gets.
    requestAnimationFrame(() => drawChart(chart, months, r.min_sample));
    return sec;
  }

  // A month with fewer customers than the minimum sample is drawn faint, and
  // its segments give counts but no share.
  function drawChart(box, months, minSample) {
    const width = Math.max(280, Math.floor(box.clientWidth || 600));
    const height = 220;
    const pad = { l: 40, r: 8, t: 8, b: 28 };
    const iw = width - pad.l - pad.r;
    const ih = height - pad.t - pad.b;
    const n = Math.max(months.length, 1);
    const slot = iw / n;
    const bw = Math.max(4, Math.min(48, slot * 0.72));
    const first = months.length ? months[0].month : '';
    const last = months.length ? months[months.length - 1].month : '';
    const s = svg('svg', {
      class: 'loy-svg', width, height, viewBox: '0 0 ' + width + ' ' + height, role: 'img',
      'aria-labelledby': 'loyalty-chart-title loyalty-chart-desc',
    },
    svg('title', { id: 'loyalty-chart-title' }, 'Share of customers per lifecycle stage by month'),
    svg('desc', { id: 'loyalty-chart-desc' }, months.length
      ? 'Stacked bars from ' + first + ' to ' + last + '; the counts are in the table below.'
      : 'No months in the period.'));
    for (const f of [0, 0.5, 1]) {
      const y = pad.t + ih - f * ih;
      s.append(svg('line', { class: 'loy-grid', x1: pad.l, x2: width - pad.r, y1: y, y2: y }),
        svg('text', { class: 'loy-axis', x: pad.l - 6, y: y + 4, 'text-anchor': 'end' }, f * 100 + ' %'));
    }
    // Every month labelled where there is room, else every second or third.
    const every = Math.ceil(34 / slot);
    months.forEach((m, i) => {
      const x = pad.l + i * slot + (slot - bw) / 2;
      const total = STAGES.reduce((t, [k]) => t + (m.counts[k] || 0), 0);
      const thin = total > 0 && total < minSample;
      const g = svg('g', { class: thin ? 'loy-bar thin' : 'loy-bar', 'data-month': m.month });
      let y = pad.t + ih;
      if (total > 0) {
        for (const [k, label] of STAGES) {
          const c = m.counts[k] || 0;
          if (!c) continue;
          const hgt = (c / total) * ih;
          y -= hgt;
          g.append(svg('rect', { class: 'seg seg-' + k, x, y, width: bw, height: hgt },
            svg('title', null, m.month + ' · ' + label + ': ' + c + ' of ' + total +
              (thin ? ' (not enough data: ' + total + ' customers, ' + minSample + ' needed)' : ' (' + pct(c / total) + ')'))));
        }
      } else {
        g.append(svg('rect', { class: 'seg seg-empty', x, y: pad.t, width: bw, height: ih },
          svg('title', null, m.month + ': no customers yet')));
      }
      s.append(g);
      if (i % every === 0) {
        const d = monthDate(m.month);
        const label = d.getUTCMonth() === 0 || i === 0 ? shortFmt.format(d) + ' ' + String(d.getUTCFullYear()).slice(2) : shortFmt.format(d);
        s.append(svg('text', { class: 'loy-axis', x: x + bw / 2, y: height - 10, 'text-anchor': 'middle' }, label));
      }
    });
    box.replaceChildren(s);
  }

  // cohortsSection: rows are cohorts (month of the first order), columns
  // month offsets; a cell's shade is its rate, its text the customers.
  function cohortsSection(r) {
    const cohorts = Array.isArray(r.cohorts) ? r.cohorts : [];
    const cols = cohorts.reduce((n, c) => Math.max(n, (c.retained || []).length), 0);
    const head = [h('th', { scope: 'col', text: 'Cohort' }), h('th', { scope: 'col', text: 'Size' })];
    for (let k = 0; k < cols; k++) head.push(h('th', { scope: 'col', title: k + ' months after the first order', text: 'M' + k }));
    const rows = cohorts.map((c) => {
      const thin = c.rates.every((x) => x == null);
      const cells = [];
      for (let k = 0; k < cols; k++) {
        if (k >= c.retained.length) {
          cells.push(h('td', { class: 'na', 'aria-label': 'not yet observed' }));
          continue;
        }
        const n = c.retained[k];
        const rate = c.rates[k];
        if (rate == null) {
          cells.push(h('td', { 'data-offset': k, title: n + ' of ' + c.size + ' customers' }, h('span', { class: 'n', text: String(n) })));
        } else {
          cells.push(h('td', { 'data-offset': k, class: 'heat-' + Math.round(rate * 10), title: n + ' of ' + c.size + ' customers (' + pct(rate) + ')' },
            h('span', { class: 'n', text: String(n) }), h('span', { class: 'r', text: pct(rate) })));
        }
      }
      return h('tr', { 'data-cohort': c.cohort, class: thin ? 'thin' : null },
        h('th', { scope: 'row' }, monthEl(c.cohort), c.note ? h('span', { class: 'loy-note', text: c.note }) : null),
        h('td', { class: 'size', text: String(c.size) }), cells);
    });
    return h('section', { class: 'card loy-section', 'aria-labelledby': 'loyalty-cohorts-title' },
      h('h2', { id: 'loyalty-cohorts-title', text: 'Cohort retention' }),
      h('p', { class: 'muted', text: 'Customers by the month of their first order, and how many of them ordered in each month after it (M0 is the first month). Darker is a higher share.' }),
      cohorts.length
        ? h('div', { class: 'loy-scroll' }, h('table', { class: 'loy-table loy-cohorts', id: 'loyalty-cohorts' },
          h('caption', { class: 'visually-hidden', text: 'Cohort retention: customers with an order in each month after their first' }),
          h('thead', null, h('tr', null, head)), h('tbody', null, rows)))
        : h('p', { class: 'empty', text: 'No months in the period.' }));
  }

  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => {
      const box = $('loyalty-chart');
      if (shown && box && !page.hidden) drawChart(box, shown.stages || [], shown.min_sample);
    }, 150);
  });

})();
