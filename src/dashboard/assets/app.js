// The Tandem dashboard. Plain browser JavaScript served as is: no build step,
// no framework, nothing fetched from outside the server. uPlot is loaded by
// index.html as the global `uPlot`.

import { GRANULARITY_MS, ROLLS_UP_INTO } from './granularities.js';

const ADDITIVE = new Set(['count', 'sum']);
const MAX_POINTS = 1500;
const REFRESH_MIN_MS = 2000;

const $ = (id) => document.getElementById(id);
const fmt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: 2 }));
const bytes = (n) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${Math.round(n / 1024)} KiB`);
const duration = (ms) => (ms >= 60e3 ? `${(ms / 60e3).toFixed(1)} min` : ms >= 1e3 ? `${(ms / 1e3).toFixed(1)} s` : `${Math.round(ms)} ms`);

const state = {
  views: [],
  status: null,
  lastVersion: undefined,
  lastLogEnd: undefined,
  chart: null,
  chartKey: '',
  refreshTimer: null,
  lastRefresh: 0,
  queryEdited: false,
  generation: 0,
};

// ---------- API ----------

// A key is asked for only when the server answers 401, and kept for this tab alone.
const KEY_STORE = 'tandem-api-key';
let keyPrompt = null;

function authHeaders() {
  const key = sessionStorage.getItem(KEY_STORE);
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** Shows the key dialog once, however many requests are waiting for it. */
function askForKey(rejected) {
  keyPrompt ??= new Promise((resolve) => {
    const dialog = $('key-dialog');
    $('key-error').textContent = rejected ? 'The server did not accept that key.' : '';
    $('key-form').onsubmit = () => {
      sessionStorage.setItem(KEY_STORE, $('key-input').value.trim());
      keyPrompt = null;
      resolve();
    };
    // Escape would close the dialog with every request still waiting on it: keep it open until a key is given.
    dialog.oncancel = (event) => event.preventDefault();
    if (!dialog.open) dialog.showModal();
  });
  return keyPrompt;
}

/** fetch with the API key, asking for one (again) while the server answers 401. */
async function authorizedFetch(path, init = {}) {
  for (;;) {
    const response = await fetch(path, { ...init, headers: { ...init.headers, ...authHeaders() } });
    if (response.status !== 401) return response;
    await askForKey(sessionStorage.getItem(KEY_STORE) !== null);
  }
}

async function api(path, body) {
  const response = await authorizedFetch(path, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`The server answered ${response.status} with something that is not JSON.`);
  }
  if (!response.ok) throw new Error(json?.error?.message ?? `The server answered ${response.status}.`);
  return json;
}

// ---------- theme ----------

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem('tandem-theme', theme);
  state.chartKey = ''; // colours live in the chart options: rebuild it
  if (state.chart) scheduleRefresh(true);
}

function initTheme() {
  const saved = localStorage.getItem('tandem-theme');
  const prefersDark = window.matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = saved ?? (prefersDark ? 'dark' : 'light');
  $('theme').addEventListener('click', () => applyTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark'));
}

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// ---------- layer strip (Server-Sent Events) ----------

// Read with fetch rather than EventSource, which cannot send the API key.
async function connectStatus() {
  const live = $('live');
  for (;;) {
    try {
      const response = await authorizedFetch('/v1/status/stream');
      if (response.status === 403) {
        live.dataset.state = 'down';
        live.textContent = 'status needs an admin key';
        return;
      }
      if (!response.ok) throw new Error(`status stream answered ${response.status}`);
      await readEvents(response.body, (event, data) => {
        if (event !== 'status') return;
        live.dataset.state = 'live';
        live.textContent = 'live';
        renderStatus(JSON.parse(data));
      });
    } catch {
      // Fall through to reconnect: the server restarted or the network dropped.
    }
    live.dataset.state = 'down';
    live.textContent = 'reconnecting…';
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** Calls `onEvent(name, data)` for each message of a text/event-stream body until it ends. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data !== '') onEvent(event, data);
    }
  }
}

/** Batch runs that keep failing: the published view still serves, but ages; say so where the layer is shown. */
function renderFailing(failing) {
  const box = $('batch-failing');
  box.hidden = !failing;
  if (!failing) return;
  const runs = failing.consecutive === 1 ? 'The last batch run failed' : `The last ${fmt(failing.consecutive)} batch runs failed`;
  box.textContent = `${runs} (since ${new Date(failing.since).toLocaleString()}): ${failing.error}`;
}

function renderStatus(s) {
  state.status = s;
  $('version').textContent = s.version ? `v${s.version}` : '';
  $('log-end').textContent = fmt(s.logEnd);
  $('ingest-rate').textContent = `${fmt(Math.round(s.ingestRate))} events/s`;
  $('disk').textContent = s.disk ? `${bytes(s.disk.masterBytes)} Parquet · ${bytes(s.disk.logBytes)} log${s.disk.freeBytes === null ? '' : ` · ${bytes(s.disk.freeBytes)} free`}` : '–';
  $('sealed').textContent = `${fmt(s.sealedSegments)} sealed segments`;
  const cutoff = s.batch?.cutoff ?? 0;
  $('batch-version').textContent = s.batch ? `v${s.batch.version}` : 'none yet';
  $('batch-cutoff').textContent = s.batch ? `offset ${fmt(cutoff)}` : '–';
  $('batch-age').textContent = s.batch ? duration(s.batch.ageMs) : '–';
  const last = s.recentBatches?.[0];
  $('batch-last').textContent = last ? `${duration(last.durationMs)} · ${fmt(Math.round(last.events / Math.max(last.durationMs / 1000, 1e-3)))} events/s` : '–';
  renderProgress(s.batchProgress);
  renderHistory(s.recentBatches ?? []);
  renderFailing(s.batchFailing);
  renderCluster(s.cluster);
  $('speed-events').textContent = fmt(s.speed.events);
  $('speed-keys').textContent = fmt(s.speed.keys);
  $('memory').textContent = s.memory ? `${bytes(s.memory.heapUsedBytes)} heap · ${bytes(s.memory.rssBytes)} RSS` : '–';
  $('lag').textContent = `${fmt(s.logEnd - cutoff)} offsets`;

  const version = s.batch?.version ?? null;
  if (state.lastVersion !== undefined && version !== state.lastVersion) scheduleRefresh(true);
  else if (state.lastLogEnd !== undefined && s.logEnd !== state.lastLogEnd) scheduleRefresh(false);
  state.lastVersion = version;
  state.lastLogEnd = s.logEnd;
}

/** Cluster mode: the nodes, who runs the batch layer, and how far each partition is applied here. */
function renderCluster(cluster) {
  const box = $('cluster');
  box.hidden = !cluster;
  if (!cluster) return;
  $('cluster-name').textContent = `${cluster.name} · this node ${cluster.node}`;
  $('cluster-lease').textContent = cluster.batchNode ? `batch node ${cluster.batchNode} (term ${fmt(cluster.leaseTerm)})` : 'no batch node';
  const row = (cells, strong) => {
    const tr = document.createElement('tr');
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    if (strong) tr.className = 'self';
    return tr;
  };
  $('cluster-partitions').replaceChildren(...cluster.partitions.map((p) => row([String(p.partition), fmt(p.end), fmt(p.applied), fmt(p.batchCutoff)])));
  $('cluster-nodes').replaceChildren(...cluster.nodes.map((n) => row([
    n.node === cluster.batchNode ? `${n.node} (batch)` : n.node,
    n.batchVersion === null ? '–' : `v${n.batchVersion}`,
    `${fmt(n.lagMessages)} messages`,
    `${duration(n.seenAgoMs)} ago`,
  ], n.node === cluster.node)));
}

function renderProgress(progress) {
  const box = $('batch-progress');
  box.hidden = progress === null || progress === undefined;
  if (box.hidden) return;
  const share = progress.phase === 'computing' && progress.viewsTotal > 0 ? progress.viewsDone / progress.viewsTotal : progress.phase === 'exporting' ? 0.15 : 0.05;
  $('batch-progress-fill').style.width = `${Math.round(share * 100)}%`;
  $('batch-progress-text').textContent = `running: ${progress.phase}${progress.phase === 'computing' ? ` ${progress.viewsDone}/${progress.viewsTotal} views` : ''}`;
}

function renderHistory(runs) {
  const box = $('batch-history');
  const shown = runs.slice(0, 20).reverse();
  const longest = Math.max(1, ...shown.map((r) => r.durationMs));
  box.replaceChildren(...shown.map((run) => {
    const bar = document.createElement('span');
    bar.style.height = `${Math.max(8, (run.durationMs / longest) * 100)}%`;
    bar.title = `v${run.version}: ${fmt(run.events)} events in ${duration(run.durationMs)}`;
    return bar;
  }));
}

// ---------- explorer controls ----------

function currentView() {
  return state.views.find((v) => v.name === $('view').value);
}

function option(value, label = value) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = label;
  return o;
}

/** The name a quantile has in an answer: p50, p99, p99.9 (as the server names them). */
const quantileName = (q) => `p${Number((q * 100).toPrecision(12))}`;

/** The measure chosen, and for a quantiles measure the quantile. */
function selectedMeasure() {
  const [name, q] = $('measure').value.split('@');
  return { name, quantile: q === undefined ? undefined : Number(q), label: q === undefined ? name : `${name} ${quantileName(Number(q))}` };
}

/** A row's value of the chosen measure: a number, text for a huge sum, or null. */
function measureCell(row, sel) {
  const value = row?.[sel.name];
  if (sel.quantile === undefined || value === null || value === undefined) return value ?? null;
  return value[quantileName(sel.quantile)] ?? null;
}

function fillViewControls() {
  const view = currentView();
  if (!view) return;
  // A quantiles measure is charted one quantile at a time: an option each, `name@q`.
  $('measure').replaceChildren(...Object.entries(view.measures).flatMap(([name, m]) => (m.type === 'quantiles'
    ? (m.quantiles ?? [0.5, 0.9, 0.99]).map((q) => option(`${name}@${q}`, `${name} ${quantileName(q)} (quantiles)`))
    : [option(name, `${name} (${m.type})`)])));
  $('group-by').replaceChildren(...view.dimensions.map((d) => option(d)));
  $('group-by').disabled = view.dimensions.length === 0;
  fillGranularity();
  void fillFilters(view);
}

function rangeMs() {
  const v = $('range').value;
  return v === 'all' ? null : Number(v);
}

function fillGranularity() {
  const view = currentView();
  const select = $('granularity');
  if (view.granularity === 'none') {
    select.replaceChildren(option('all', 'all (view has no time)'));
    return;
  }
  const options = ROLLS_UP_INTO[view.granularity] ?? [];
  const range = rangeMs() ?? 90 * 86400e3;
  const fitting = options.find((g) => range / GRANULARITY_MS[g] <= MAX_POINTS) ?? options.at(-1);
  select.replaceChildren(...options.map((g) => option(g)));
  select.value = fitting;
}

async function fillFilters(view) {
  const box = $('filters');
  const generation = ++state.generation;
  const firstMeasure = Object.keys(view.measures)[0];
  const selects = await Promise.all(view.dimensions.map(async (dim) => {
    const label = document.createElement('label');
    label.textContent = dim;
    const select = document.createElement('select');
    select.dataset.dimension = dim;
    select.append(option('', 'any'));
    try {
      const answer = await api('/v1/query', { view: view.name, groupBy: [dim], granularity: 'all', orderBy: [{ measure: firstMeasure, desc: true }], limit: 50 });
      for (const row of answer.rows) select.append(option(JSON.stringify(row[dim]), row[dim] === null ? '(none)' : String(row[dim])));
    } catch {
      // The filter stays at 'any'; the chart shows the error if the view itself fails.
    }
    select.addEventListener('change', () => scheduleRefresh(true));
    label.append(select);
    return label;
  }));
  if (generation === state.generation) box.replaceChildren(...selects);
}

function where() {
  const filters = {};
  for (const select of $('filters').querySelectorAll('select')) {
    if (select.value !== '') filters[select.dataset.dimension] = JSON.parse(select.value);
  }
  return filters;
}

function chartQuery() {
  const view = currentView();
  const range = rangeMs();
  const now = Date.now();
  const query = { view: view.name, granularity: $('granularity').value };
  if (range !== null) Object.assign(query, { from: new Date(now - range).toISOString(), to: new Date(now + 1).toISOString() });
  const filters = where();
  if (Object.keys(filters).length > 0) query.where = filters;
  return query;
}

// ---------- refresh ----------

function scheduleRefresh(now) {
  clearTimeout(state.refreshTimer);
  const wait = now ? 0 : Math.max(0, REFRESH_MIN_MS - (Date.now() - state.lastRefresh));
  state.refreshTimer = setTimeout(() => void refresh(), wait);
}

function setState(id, kind, text) {
  const box = $(id);
  if (kind === null) delete box.dataset.kind;
  else box.dataset.kind = kind;
  box.textContent = text ?? '';
}

async function refresh() {
  const view = currentView();
  if (!view) return;
  state.lastRefresh = Date.now();
  const measure = selectedMeasure();
  const query = chartQuery();
  if (!state.queryEdited) $('query-text').value = JSON.stringify(query, null, 2);
  const loading = setTimeout(() => setState('chart-state', 'loading', 'Loading…'), 200);
  try {
    const [merged, batch, speed] = await Promise.all(['merged', 'batch', 'speed'].map((layer) => api('/v1/query', { ...query, layer })));
    clearTimeout(loading);
    renderChart(view, measure, merged, batch, speed);
    await renderTop(view, measure, query);
  } catch (error) {
    clearTimeout(loading);
    setState('chart-state', 'error', error.message);
  }
}

// ---------- chart ----------

function seriesValues(times, answer, measure) {
  const byTime = new Map(answer.rows.map((r) => [Date.parse(r.time), measureCell(r, measure)]));
  return times.map((t) => {
    const v = byTime.get(t);
    return v === undefined || v === null ? null : Number(v);
  });
}

function renderChart(view, measure, merged, batch, speed) {
  const box = $('chart');
  if (merged.rows.length === 0 || merged.rows[0].time === undefined) {
    state.chart?.destroy();
    state.chart = null;
    box.replaceChildren();
    setState('chart-state', 'empty', merged.rows.length === 0
      ? 'No events in this range yet. Send some with POST /v1/events/{type} or tandem ingest.'
      : 'This view has no time dimension; see the table below.');
    return;
  }
  setState('chart-state', null);
  const times = [...new Set(merged.rows.map((r) => Date.parse(r.time)))].sort((a, b) => a - b);
  const type = view.measures[measure.name].type;
  const additive = ADDITIVE.has(type);
  const b = seriesValues(times, batch, measure);
  const s = seriesValues(times, speed, measure);
  const m = seriesValues(times, merged, measure);
  const x = times.map((t) => t / 1000);
  // What the chart shows, in numbers: lets tests and curious users check it without reading pixels.
  box.dataset.points = String(times.length);
  box.dataset.total = String(m.reduce((sum, v) => sum + (v ?? 0), 0));
  // Stacked for sums and counts: the total's area is painted in the speed colour, the batch part over it.
  const data = additive ? [x, m, b.map((v) => v ?? 0)] : [x, b, s, m];
  const key = `${view.name}|${measure.label}|${additive}|${document.documentElement.dataset.theme}`;
  if (state.chart && state.chartKey === key) {
    state.chart.setData(data);
    return;
  }
  state.chart?.destroy();
  state.chartKey = key;
  state.chart = new uPlot(chartOptions(additive, measure.label, box.clientWidth), data, box);
}

function chartOptions(additive, measure, width) {
  const text = css('--text');
  const grid = css('--border');
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
  const bars = uPlot.paths.bars({ size: [0.8, 40] });
  const series = additive
    ? [
      // Opaque fills: the batch bar is painted over the total's bar, and must hide it where they overlap.
      { label: `${measure}: speed layer`, stroke: css('--speed'), fill: css('--speed-solid'), paths: bars, value: (_, v) => fmt(v) },
      { label: `${measure}: batch view`, stroke: css('--batch'), fill: css('--batch-solid'), paths: bars, value: (_, v) => fmt(v) },
    ]
    : [
      { label: `${measure}: batch view`, stroke: css('--batch'), width: 2, value: (_, v) => fmt(v) },
      { label: `${measure}: speed layer`, stroke: css('--speed'), width: 2, value: (_, v) => fmt(v) },
      { label: `${measure}: merged`, stroke: text, width: 1, dash: [4, 4], value: (_, v) => fmt(v) },
    ];
  return {
    width: Math.max(280, width),
    height: 300,
    series: [{}, ...series],
    scales: { x: { time: true, range: xRange } },
    axes: [axis, { ...axis, size: 70, values: (_, ticks) => ticks.map((t) => fmt(t)) }],
    legend: { show: true },
    hooks: { draw: [drawBoundary] },
  };
}

/** The data's span, widened to the current bucket's end and to the last batch, so the boundary is on the chart. */
function xRange(_u, min, max) {
  const step = GRANULARITY_MS[$('granularity').value] / 1000 || 0;
  const createdAt = state.status?.batch?.createdAt;
  const boundary = createdAt ? Date.parse(createdAt) / 1000 : max;
  const range = rangeMs();
  const from = range === null ? min : Math.min(min, (Date.now() - range) / 1000);
  return [from, Math.max(max + step, Math.min(boundary + step / 4, Date.now() / 1000 + step))];
}

/** The last batch's seal time: events that arrived before it are in the batch view, the rest in the speed layer. */
function drawBoundary(u) {
  const createdAt = state.status?.batch?.createdAt;
  if (!createdAt) return;
  $('chart').dataset.boundary = createdAt;
  const x = u.valToPos(Date.parse(createdAt) / 1000, 'x', true);
  if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = css('--boundary');
  ctx.lineWidth = 2 * devicePixelRatio;
  ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
  ctx.beginPath();
  ctx.moveTo(x, u.bbox.top);
  ctx.lineTo(x, u.bbox.top + u.bbox.height);
  ctx.stroke();
  ctx.fillStyle = css('--boundary');
  ctx.font = `${11 * devicePixelRatio}px system-ui`;
  ctx.fillText(`batch v${state.status.batch.version}`, x + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
  ctx.restore();
}

// ---------- top-N table ----------

async function renderTop(view, measure, query) {
  const table = $('top');
  const dim = $('group-by').value;
  if (!dim) {
    table.querySelector('thead').replaceChildren();
    table.querySelector('tbody').replaceChildren();
    setState('table-state', 'empty', 'This view has no dimensions to rank.');
    return;
  }
  const base = { ...query, groupBy: [dim], granularity: 'all' };
  const [top, batch, speed] = await Promise.all([
    api('/v1/query', { ...base, orderBy: [{ measure: measure.name, desc: true, ...(measure.quantile === undefined ? {} : { quantile: measure.quantile }) }], limit: 10 }),
    api('/v1/query', { ...base, layer: 'batch' }),
    api('/v1/query', { ...base, layer: 'speed' }),
  ]);
  const byKey = (answer) => new Map(answer.rows.map((r) => [JSON.stringify(r[dim]), measureCell(r, measure)]));
  const batchBy = byKey(batch);
  const speedBy = byKey(speed);
  const additive = ADDITIVE.has(view.measures[measure.name].type);
  const head = document.createElement('tr');
  head.innerHTML = '<th></th><th class="num"></th><th class="num">batch view</th><th class="num">speed layer</th>' + (additive ? '<th>split</th>' : '');
  head.children[0].textContent = dim;
  head.children[1].textContent = measure.label;
  table.querySelector('thead').replaceChildren(head);
  const rows = top.rows.map((row) => {
    const key = JSON.stringify(row[dim]);
    const tr = document.createElement('tr');
    const cells = [row[dim] === null ? '(none)' : String(row[dim]), fmt(measureCell(row, measure)), fmt(batchBy.get(key) ?? null), fmt(speedBy.get(key) ?? null)];
    cells.forEach((text, i) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (i > 0) td.className = 'num';
      tr.append(td);
    });
    if (additive) tr.append(splitCell(Number(batchBy.get(key) ?? 0), Number(speedBy.get(key) ?? 0)));
    return tr;
  });
  table.querySelector('tbody').replaceChildren(...rows);
  setState('table-state', rows.length === 0 ? 'empty' : null, rows.length === 0 ? 'No rows in this range.' : '');
}

function splitCell(batch, speed) {
  const td = document.createElement('td');
  const total = Math.abs(batch) + Math.abs(speed) || 1;
  for (const [kind, value] of [['batch', batch], ['speed', speed]]) {
    const bar = document.createElement('span');
    bar.className = `split ${kind}`;
    bar.style.width = `${Math.round((Math.abs(value) / total) * 80)}px`;
    td.append(bar);
  }
  return td;
}

// ---------- query box ----------

async function runQueryBox() {
  const status = $('query-status');
  const meta = $('query-meta');
  const answer = $('query-answer');
  let query;
  try {
    query = JSON.parse($('query-text').value);
  } catch {
    meta.className = 'error';
    meta.textContent = 'The query is not valid JSON.';
    answer.textContent = '';
    return;
  }
  status.textContent = 'running…';
  const started = performance.now();
  try {
    const result = await api('/v1/query', query);
    meta.className = '';
    meta.textContent = `meta ${JSON.stringify(result.meta)}`;
    const shown = result.rows.slice(0, 200);
    answer.textContent = JSON.stringify(shown, null, 2) + (result.rows.length > shown.length ? `\n… ${result.rows.length - shown.length} more rows` : '');
    status.textContent = `${result.rows.length} rows in ${Math.round(performance.now() - started)} ms`;
  } catch (error) {
    meta.className = 'error';
    meta.textContent = error.message;
    answer.textContent = '';
    status.textContent = '';
  }
}

// ---------- start ----------

async function start() {
  initTheme();
  void connectStatus();
  $('run-batch').addEventListener('click', async () => {
    const button = $('run-batch');
    button.disabled = true;
    try {
      await api('/v1/batch', {});
    } catch (error) {
      setState('chart-state', 'error', error.message);
    } finally {
      button.disabled = false;
    }
  });
  $('run-query').addEventListener('click', () => void runQueryBox());
  $('query-text').addEventListener('input', () => (state.queryEdited = true));
  $('view').addEventListener('change', () => {
    state.queryEdited = false;
    fillViewControls();
    scheduleRefresh(true);
  });
  for (const id of ['measure', 'granularity', 'group-by']) $(id).addEventListener('change', () => scheduleRefresh(true));
  $('range').addEventListener('change', () => {
    fillGranularity();
    scheduleRefresh(true);
  });
  new ResizeObserver(() => {
    if (state.chart) state.chart.setSize({ width: Math.max(280, $('chart').clientWidth), height: 300 });
  }).observe($('chart'));

  try {
    const { views } = await api('/v1/views');
    state.views = views;
    if (views.length === 0) {
      setState('chart-state', 'empty', 'No views are defined; add some to the config.');
      return;
    }
    $('view').replaceChildren(...views.map((v) => option(v.name)));
    fillViewControls();
    await refresh();
  } catch (error) {
    setState('chart-state', 'error', error.message);
  }
}

void start();
