// The Tandem dashboard. Plain browser JavaScript served as is: no build step,
// no framework, nothing fetched from outside the server. uPlot is loaded by
// index.html as the global `uPlot`.

import { GRANULARITY_MS, ROLLS_UP_INTO } from './granularities.js';
import { api, authorizedFetch, initKeyControls } from './api.js';
import { bytes, compact, duration, fmt, iso } from './format.js';
import { ADDITIVE, LAYER_NAMES, noOtherReason, sameSnapshot, seriesTotal, splitSeries } from './series.js';
import { timeAxisLabels } from './time-axis.js';
import { decodeExplorerState, encodeExplorerState } from './url-state.js';
import { browserZone, knownZone, parseZonedInput, roundLocal, zonedLabel, zoneNames } from './zoned-time.js';

const MAX_POINTS = 1500;
const REFRESH_MIN_MS = 2000;
const MINUTE = 60e3;
const DAY = 86400e3;
const DEFAULT_RANGE = '86400000';
// The zone select's entry for a zone typed in by name.
const OTHER_ZONE = 'other';
// Refusals of the zone asked for: the chart drawn before was another zone's, and goes.
const ZONE_ERRORS = new Set(['unknown_time_zone', 'time_zone_roll_up']);

const $ = (id) => document.getElementById(id);

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
  // The range shown: a select value (ms back from now, `all`, `custom`), and for `custom` its span in ms.
  range: { value: DEFAULT_RANGE, custom: null },
  // Earlier ranges, for "previous range" after a zoom.
  history: [],
  // Once the user picks a range, the dashboard stops picking one for them.
  rangeChosen: false,
  // A view's first answer, if empty, opens the data's own extent instead.
  autoRange: true,
  granularityChosen: false,
  // The data's first and last bucket for a view and filter, found through queries.
  extent: null,
  // What the chart shows, for its legend and overlays.
  plot: null,
  // Split series the user switched off in the legend, by label: kept across redraws and in the URL.
  hiddenSeries: new Set(),
  // Filters a link names, until the filter selects are built to show them.
  pendingWhere: null,
  // The URL follows the explorer only once the state a link named has been applied.
  urlReady: false,
  // The IANA zone queries ask for (days, weeks and months are its local ones), and the one times are shown in:
  // the same, except for a zone this browser does not know, which is sent for the server to refuse and shown as UTC.
  timeZone: 'UTC',
  shownZone: 'UTC',
};

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
  renderMasterCard(s);
  $('ingest-rate').textContent = `${fmt(Math.round(s.ingestRate))} events/s`;
  $('sealed').textContent = `${fmt(s.sealedSegments)} sealed segments`;
  const cutoff = s.batch?.cutoff ?? 0;
  $('batch-version').textContent = s.batch ? `v${s.batch.version}` : 'none yet';
  $('batch-cutoff').textContent = s.batch ? `offset ${fmt(cutoff)}` : '–';
  $('batch-age').textContent = s.batch ? duration(s.batch.ageMs) : '–';
  const last = s.recentBatches?.[0];
  $('batch-last').textContent = last ? `${duration(last.durationMs)} · ${fmt(Math.round(last.events / Math.max(last.durationMs / 1000, 1e-3)))} events/s` : '–';
  renderProgress(s.batchProgress);
  renderViewChanges(s.viewChanges ?? []);
  renderHistoryImport(s.history);
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
  // A view added, changed or dropped while serving: the explorer's list follows.
  const versions = JSON.stringify(s.viewVersions ?? {});
  if (state.viewVersions !== undefined && versions !== state.viewVersions) void loadViews();
  state.viewVersions = versions;
}

/** View changes being backfilled: one bar each, by events, with what answers meanwhile. */
function renderViewChanges(changes) {
  $('view-changes').replaceChildren(...changes.map((c) => {
    const box = document.createElement('div');
    box.className = 'progress';
    const bar = document.createElement('div');
    bar.className = 'bar';
    const fill = document.createElement('div');
    fill.className = 'fill';
    const done = c.eventsTotal > 0 ? c.eventsDone / c.eventsTotal : c.filesTotal > 0 ? c.filesDone / c.filesTotal : 0;
    fill.style.width = `${Math.round(done * 100)}%`;
    bar.append(fill);
    const text = document.createElement('span');
    const meanwhile = c.serving === null ? 'answers once done' : `v${c.serving} answers meanwhile`;
    const eta = c.etaMs === null ? '' : ` · about ${duration(c.etaMs)} left`;
    text.textContent = `${c.view} v${c.version} ${c.state}: ${fmt(c.filesDone)}/${fmt(c.filesTotal)} files · ${Math.floor(done * 100)}%${eta} · ${meanwhile}${c.error ? ` · ${c.error}` : ''}`;
    box.append(bar, text);
    return box;
  }));
}

/**
 * A history file sent to `POST /v1/history` (`tandem ingest --history
 * --url`): the bytes received while it arrives (its size is not known, so
 * the bar waits), then the rows imported of those known, then publishing.
 */
function renderHistoryImport(h) {
  if (!h) {
    $('history-import').replaceChildren();
    return;
  }
  const box = document.createElement('div');
  box.className = 'progress';
  const bar = document.createElement('div');
  bar.className = 'bar';
  const fill = document.createElement('div');
  fill.className = 'fill';
  const done = h.phase === 'uploading' ? 0 : h.phase === 'publishing' ? 1 : h.rowsKnown > 0 ? Math.min(h.rowsDone / h.rowsKnown, 1) : 0;
  fill.style.width = `${Math.round(done * 100)}%`;
  bar.append(fill);
  const text = document.createElement('span');
  const where = h.phase === 'uploading' ? `${bytes(h.bytesReceived)} received`
    : h.phase === 'importing' ? `${fmt(h.rowsDone)}/${fmt(h.rowsKnown)} rows · ${Math.floor(done * 100)}%` : 'one batch cycle';
  text.textContent = `history ${h.file} → ${h.eventType} ${h.phase}: ${where}`;
  box.append(bar, text);
  $('history-import').replaceChildren(box);
}

/**
 * The master dataset card. Embedded: the log's end offset (one per event)
 * and the Parquet on this disk. A cluster's sequences count messages, which
 * may carry many events each, and its master dataset is the archive in the
 * object store: the card shows its events and the archive's size, messages
 * as a detail.
 */
function renderMasterCard(s) {
  const cluster = s.cluster;
  const free = s.disk && s.disk.freeBytes !== null ? ` · ${bytes(s.disk.freeBytes)} free` : '';
  if (!cluster) {
    $('log-end').textContent = fmt(s.logEnd);
    $('log-end-sub').textContent = 'log end offset';
    $('disk').textContent = s.disk ? `${bytes(s.disk.masterBytes)} Parquet · ${bytes(s.disk.logBytes)} log${free}` : '–';
    return;
  }
  $('log-end').textContent = cluster.events === null || cluster.events === undefined ? '–' : fmt(cluster.events);
  $('log-end-sub').textContent = `events · ${fmt(s.logEnd)} messages applied`;
  const archive = cluster.archiveBytes === null || cluster.archiveBytes === undefined ? 'archive size not known yet' : `${bytes(cluster.archiveBytes)} Parquet in the object store`;
  $('disk').textContent = `${archive}${free}`;
}

/** Cluster mode: the nodes, who runs the batch layer, and how many events (and messages) each partition holds. */
function renderCluster(cluster) {
  const box = $('cluster');
  box.hidden = !cluster;
  if (!cluster) return;
  $('cluster-name').textContent = `${cluster.name} · this node ${cluster.node}`;
  $('cluster-lease').textContent = cluster.batchNode ? `batch node ${cluster.batchNode} (term ${fmt(cluster.leaseTerm)})` : 'no batch node';
  // What of the shared state in NATS this node found missing or not valid: answers may lack what it held.
  const damage = $('cluster-damage');
  damage.hidden = !cluster.archiveDamaged;
  if (cluster.archiveDamaged) damage.textContent = `Archive damaged (since ${new Date(cluster.archiveDamaged.since).toLocaleString()}): ${cluster.archiveDamaged.message}`;
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
  // Who owns each partition (holds its lease), and a handover under way.
  const owner = (p) => (p.owner ? `${p.owner}${p.moveTo ? ` → ${p.moveTo}` : ''}` : '–');
  // Events, counted by the partition's holder (null until it told); sequences count messages, a detail.
  const events = (p) => (p.events === null || p.events === undefined ? '–' : fmt(p.events));
  const archive = (p) => `${fmt(p.archivedEvents ?? 0)}${p.archiveBytes === null || p.archiveBytes === undefined ? '' : ` · ${bytes(p.archiveBytes)}`}`;
  $('cluster-partitions').replaceChildren(...cluster.partitions.map((p) => row([String(p.partition), owner(p), p.speedHere ? 'yes' : '–', events(p), archive(p), fmt(p.end), fmt(p.applied), fmt(p.batchCutoff)], p.owner === cluster.node)));
  const last = (cluster.recentMoves ?? []).at(-1);
  $('cluster-moves').textContent = last === undefined ? '' : `${fmt(cluster.ownerMoves ?? 0)} ownership moves seen; the latest: partition ${last.partition} ${last.from ?? 'none'} → ${last.to ?? 'none'} at ${new Date(last.at).toLocaleTimeString()}`;
  $('cluster-nodes').replaceChildren(...cluster.nodes.map((n) => row([
    n.node === cluster.batchNode ? `${n.node} (batch)` : n.node,
    n.reads === undefined ? 'all' : n.reads.length === 0 ? '–' : n.reads.join(', '),
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
  // Refilled when the view list changes while serving, too: the measure, split and granularity shown stay if offered.
  const kept = ['measure', 'group-by', 'granularity'].map((id) => [id, $(id).value]);
  // A quantiles measure is charted one quantile at a time: an option each, `name@q`.
  $('measure').replaceChildren(...Object.entries(view.measures).flatMap(([name, m]) => (m.type === 'quantiles'
    ? (m.quantiles ?? [0.5, 0.9, 0.99]).map((q) => option(`${name}@${q}`, `${name} ${quantileName(q)} (quantiles)`))
    : [option(name, `${name} (${m.type})`)])));
  // No split by default: one series whose bars or lines show the batch and speed parts.
  $('group-by').replaceChildren(option('', 'none'), ...view.dimensions.map((d) => option(d)));
  $('group-by').disabled = view.dimensions.length === 0;
  fillGranularity(view);
  for (const [id, value] of kept) selectIfOffered(id, value);
  showSplitControls();
  void fillFilters(view);
}

function fillGranularity(view) {
  const select = $('granularity');
  if (view.granularity === 'none') select.replaceChildren(option('all', 'all (view has no time)'));
  else select.replaceChildren(...(ROLLS_UP_INTO[view.granularity] ?? []).map((g) => option(g)));
}

/** Until the user picks one, the finest granularity whose buckets over the range fit the chart's width. */
function fitGranularity(view) {
  if (state.granularityChosen || view.granularity === 'none') return;
  const span = shownSpan();
  const width = span ? span.to - span.from : 90 * DAY;
  const most = Math.max(30, Math.min(MAX_POINTS, Math.floor($('chart').clientWidth / 4)));
  const options = ROLLS_UP_INTO[view.granularity] ?? [];
  $('granularity').value = options.find((g) => width / GRANULARITY_MS[g] <= most) ?? options.at(-1);
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
      // No timeZone: one bucket over all time is the same in every zone, and a zone refused must not empty the filters.
      const answer = await api('/v1/query', { view: view.name, groupBy: [dim], granularity: 'all', orderBy: [{ measure: firstMeasure, desc: true }], limit: 50 });
      for (const row of answer.rows) select.append(option(JSON.stringify(row[dim]), row[dim] === null ? '(none)' : String(row[dim])));
    } catch {
      // The filter stays at 'any'; the chart shows the error if the view itself fails.
    }
    select.addEventListener('change', () => scheduleRefresh(true));
    label.append(select);
    return label;
  }));
  if (generation !== state.generation) return;
  box.replaceChildren(...selects);
  showPendingFilters();
}

/** A link's filters, shown in the selects once they exist; a value outside the fifty listed gets its own option. */
function showPendingFilters() {
  const pending = state.pendingWhere;
  state.pendingWhere = null;
  for (const [dim, value] of Object.entries(pending ?? {})) {
    const select = $('filters').querySelector(`select[data-dimension="${CSS.escape(dim)}"]`);
    if (!select) continue;
    const wanted = JSON.stringify(value);
    if (![...select.options].some((o) => o.value === wanted)) select.append(option(wanted, value === null ? '(none)' : String(value)));
    select.value = wanted;
  }
}

/** The split dimension, or '' for one series; the table ranks it, or the first dimension without a split. */
const splitDimension = () => $('group-by').value;

function tableDimension(view) {
  return splitDimension() || view.dimensions[0];
}

/** How many top values the chart splits into: only offered with a split. */
function showSplitControls() {
  $('top-n').disabled = splitDimension() === '';
}

function where() {
  // Until the filter selects are built, the filters a link names are the ones in force.
  const filters = { ...state.pendingWhere };
  for (const select of $('filters').querySelectorAll('select')) {
    if (select.value !== '') filters[select.dataset.dimension] = JSON.parse(select.value);
  }
  return filters;
}

function chartQuery(view) {
  const query = { view: view.name, granularity: $('granularity').value, timeZone: state.timeZone };
  // All time leaves the range open: the server answers every bucket there is.
  const span = state.range.value === 'all' ? null : shownSpan();
  if (span) Object.assign(query, { from: iso(span.from), to: iso(span.to) });
  const filters = where();
  if (Object.keys(filters).length > 0) query.where = filters;
  return query;
}

// ---------- time zone ----------

/** The zone select: UTC, this browser's zone, and any other by name, with every zone the browser knows to pick from. */
function fillTimeZones() {
  const own = browserZone();
  $('time-zone').replaceChildren(option('UTC'), ...(own === 'UTC' ? [] : [option(own, `${own} (this browser)`)]), option(OTHER_ZONE, 'other…'));
  $('time-zones').replaceChildren(...zoneNames().map((name) => option(name)));
}

function onZoneSelect() {
  const value = $('time-zone').value;
  if (value !== OTHER_ZONE) return setTimeZone(value);
  const name = $('time-zone-other');
  $('time-zone-name').hidden = false;
  name.focus();
  if (name.value.trim() !== '') setTimeZone(name.value);
}

/**
 * Queries in `name` from now on (UTC when empty), shown in it where this
 * browser knows it: a zone it does not know is still sent, and the server's
 * refusal says what is wrong with it.
 */
function setTimeZone(name, refreshNow = true) {
  const typed = name.trim() || 'UTC';
  const known = knownZone(typed);
  state.timeZone = known ?? typed;
  state.shownZone = known ?? 'UTC';
  showTimeZone();
  if (refreshNow) scheduleRefresh(true);
}

/** The zone controls and the range inputs' labels follow the zone asked for. */
function showTimeZone() {
  const zone = state.timeZone;
  const offered = zone !== OTHER_ZONE && [...$('time-zone').options].some((o) => o.value === zone);
  $('time-zone').value = offered ? zone : OTHER_ZONE;
  $('time-zone-name').hidden = offered;
  if (!offered) $('time-zone-other').value = zone;
  for (const [id, end] of [['range-from', 'From'], ['range-to', 'To']]) {
    $(`${id}-label`).textContent = `${end} (${state.shownZone})`;
    $(id).title = `24-hour ${state.shownZone} time: YYYY-MM-DD HH:MM`;
  }
}

// ---------- range ----------

/** The span shown, in ms, end exclusive; null for all time while the data's extent is unknown or there is no data. */
function shownSpan() {
  const { value, custom } = state.range;
  if (value === 'custom') return custom;
  if (value === 'all') return state.extent?.span ?? null;
  const now = Date.now();
  return { from: now - Number(value), to: now + 1 };
}

function setNote(text) {
  $('range-note').textContent = text;
  $('range-note').hidden = text === '';
}

/**
 * Shows a range and queries it. A zoom keeps the range it replaces for
 * "previous range"; going back pops it; a range picked anew starts over.
 */
function applyRange(range, how = 'pick') {
  if (how === 'zoom') state.history.push(state.range);
  else if (how === 'pick') state.history = [];
  state.range = range;
  state.rangeChosen = true;
  state.autoRange = false;
  state.granularityChosen = false;
  setNote('');
  showRange();
  scheduleRefresh(true);
}

/** The controls follow the range shown; an input being edited is left alone. */
function showRange() {
  $('range').value = state.range.value;
  $('range-back').hidden = state.history.length === 0;
  const span = shownSpan();
  for (const [id, ms] of [['range-from', span?.from], ['range-to', span?.to]]) {
    const input = $(id);
    if (document.activeElement !== input) input.value = ms === undefined ? '' : zonedLabel(ms, state.shownZone);
  }
}

function onRangeSelect() {
  const value = $('range').value;
  const now = Date.now();
  applyRange({ value, custom: value === 'custom' ? shownSpan() ?? { from: now - DAY, to: now } : null });
}

function onRangeInput() {
  const from = parseZonedInput($('range-from').value, state.shownZone);
  const to = parseZonedInput($('range-to').value, state.shownZone);
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    setNote(`Write the start and the end as YYYY-MM-DD HH:MM, in ${state.shownZone}, such as 2025-03-10 14:30.`);
    return;
  }
  if (from >= to) {
    setNote('The start must be before the end.');
    return;
  }
  applyRange({ value: 'custom', custom: { from, to } });
}

function previousRange() {
  const range = state.history.pop();
  if (range) applyRange(range, 'back');
}

/** A dragged span, widened to whole buckets of the view (days from local midnight): a range from 10:30 would leave out the 10:00 bucket. */
function snapToBuckets(view, from, to) {
  const width = GRANULARITY_MS[view.granularity];
  const step = width ? Math.min(width, DAY) : MINUTE;
  const start = roundLocal(from, step, state.shownZone, Math.floor);
  return { from: start, to: Math.max(start + step, roundLocal(to, step, state.shownZone, Math.ceil)) };
}

function zoomToSelection(u) {
  const { left, width } = u.select;
  if (width < 4) return; // a click, not a drag
  u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
  const from = u.posToVal(left, 'x') * 1000;
  const to = u.posToVal(left + width, 'x') * 1000;
  applyRange({ value: 'custom', custom: snapToBuckets(currentView(), from, to) }, 'zoom');
}

/**
 * The first and last bucket of a view's data (with the filters), found with
 * three small queries: the coarsest buckets over all time, then the view's
 * own within the first and the last of them. Cached until new events arrive.
 */
async function dataExtent(view) {
  if (view.granularity === 'none') return null;
  const filters = where();
  const key = JSON.stringify([view.name, filters, state.timeZone, state.lastLogEnd]);
  if (state.extent?.key !== key) state.extent = { key, span: await findExtent(view, filters) };
  return state.extent.span;
}

async function findExtent(view, filters) {
  const base = { view: view.name, timeZone: state.timeZone, ...(Object.keys(filters).length > 0 ? { where: filters } : {}) };
  const coarse = (ROLLS_UP_INTO[view.granularity] ?? [view.granularity]).at(-1);
  const { rows } = await api('/v1/query', { ...base, granularity: coarse, orderBy: [{ time: true }] });
  if (rows.length === 0) return null;
  const first = Date.parse(rows[0].time);
  const last = Date.parse(rows.at(-1).time);
  const [head, tail] = await Promise.all([
    // A month is up to 31 days, its typical width 30.4: 1.1 widths cover any one.
    api('/v1/query', { ...base, to: iso(first + 1.1 * GRANULARITY_MS[coarse]), orderBy: [{ time: true }], limit: 1 }),
    api('/v1/query', { ...base, from: iso(last), orderBy: [{ time: true, desc: true }], limit: 1 }),
  ]);
  const bucket = GRANULARITY_MS[view.granularity];
  return { from: Date.parse(head.rows[0]?.time ?? rows[0].time), to: Date.parse(tail.rows[0]?.time ?? rows.at(-1).time) + bucket };
}

/** A view's first answer that is empty only because the default range misses the data opens on all of it. */
async function openOnData(view, merged) {
  if (!state.autoRange) return false;
  state.autoRange = false;
  if (merged.rows.length > 0 || state.range.value === 'all' || view.granularity === 'none') return false;
  if ((await dataExtent(view)) === null) return false;
  const label = $('range').selectedOptions[0]?.textContent ?? 'default range';
  state.range = { value: 'all', custom: null };
  setNote(`Nothing in the ${label}; showing all the data.`);
  return true;
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
  const loading = setTimeout(() => setState('chart-state', 'loading', 'Loading…'), 200);
  try {
    if (state.range.value === 'all') await dataExtent(view);
    fitGranularity(view);
    showRange();
    const query = chartQuery(view);
    const dim = splitDimension();
    const split = dim ? await splitAnswers(view, measure, query, dim) : null;
    if (!state.queryEdited) $('query-text').value = JSON.stringify(split?.shown ?? query, null, 2);
    const answers = split ?? await layerAnswers(query);
    // Before drawing: a timer firing while the table loads would leave "Loading…" over the new chart.
    clearTimeout(loading);
    if (await openOnData(view, answers.merged)) {
      await refresh();
      return;
    }
    if (split) renderSplitChart(view, measure, split);
    else renderChart(view, measure, answers.merged, answers.batch, answers.speed);
    writeUrl();
    await renderTop(view, measure, query);
  } catch (error) {
    if (ZONE_ERRORS.has(error.code)) {
      clearChart('');
      emptyTable('');
    }
    setState('chart-state', 'error', error.message);
  } finally {
    clearTimeout(loading);
  }
}

// ---------- split ----------

/** A query's answer from each layer: `{ merged, batch, speed }`. */
async function layerAnswers(query) {
  const answers = await Promise.all(LAYER_NAMES.map((layer) => api('/v1/query', { ...query, layer })));
  return Object.fromEntries(LAYER_NAMES.map((layer, i) => [layer, answers[i]]));
}

/** The chosen measure as a sort key, highest first; a quantiles measure by the quantile shown. */
function rankBy(measure) {
  return { measure: measure.name, desc: true, ...(measure.quantile === undefined ? {} : { quantile: measure.quantile }) };
}

// Queries of a total and of its groups must see the same data; past this many tries the chart goes without "other".
const SNAPSHOT_TRIES = 3;

/**
 * What the chart split by `dim` needs: the top values over the range (one
 * more is asked for, to learn whether any are left out), each layer's
 * answer grouped by them, and for counts and sums each layer's total, from
 * the same data, to derive "other". `other` says how that went: `none` (no
 * value left out), `exact`, `underivable` (the measure does not add up) or
 * `moving` (the data changed between the queries each try).
 */
async function splitAnswers(view, measure, query, dim) {
  const top = Number($('top-n').value);
  const ranking = await api('/v1/query', { ...query, groupBy: [dim], granularity: 'all', orderBy: [rankBy(measure)], limit: top + 1 });
  const keys = ranking.rows.slice(0, top).map((row) => row[dim]);
  const leftOut = ranking.rows.length > top;
  const grouped = { ...query, where: { ...query.where, [dim]: keys }, groupBy: [dim] };
  const base = { shown: grouped, dim, keys, top, grouped: null, totals: null };
  if (keys.length === 0) return { ...base, merged: ranking, other: 'none' };
  const additive = ADDITIVE.has(view.measures[measure.name].type);
  if (!leftOut || !additive) {
    const answers = await layerAnswers(grouped);
    return { ...base, merged: answers.merged, grouped: answers, other: leftOut ? 'underivable' : 'none' };
  }
  for (let attempt = 1; ; attempt++) {
    const [answers, totals] = await Promise.all([layerAnswers(grouped), layerAnswers(query)]);
    const same = LAYER_NAMES.every((layer) => sameSnapshot(answers[layer], totals[layer]));
    if (same || attempt === SNAPSHOT_TRIES) return { ...base, merged: answers.merged, grouped: answers, totals: same ? totals : null, other: same ? 'exact' : 'moving' };
  }
}

/** The legend's note on "other": why it is missing when values are left out without it. */
function showOtherNote(split, type) {
  const note = $('legend-other');
  const text = split?.other === 'underivable' ? noOtherReason(type)
    : split?.other === 'moving' ? 'No "other" series this time: events arrived while it was computed.' : '';
  note.textContent = text;
  note.hidden = text === '';
}

const SERIES_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#8cd17d'];

const toNumber = (v) => (v === null || v === undefined ? null : Number(v));

function renderSplitChart(view, measure, split) {
  const box = $('chart');
  showOtherNote(split, view.measures[measure.name].type);
  if (split.merged.rows.length === 0) return clearChart(emptyMessage());
  if (split.merged.rows[0].time === undefined) return clearChart('This view has no time dimension; see the table below.');
  setState('chart-state', null);
  const additive = ADDITIVE.has(view.measures[measure.name].type);
  const rows = [...split.grouped.merged.rows, ...(split.totals?.merged.rows ?? [])];
  const times = [...new Set(rows.map((r) => Date.parse(r.time)))].sort((a, b) => a - b);
  const series = splitSeries({ times, dim: split.dim, keys: split.keys, grouped: split.grouped, totals: split.totals, cell: (row) => measureCell(row, measure), additive });
  const plot = {
    x: times.map((t) => t / 1000),
    series,
    split: true,
    partial: new Set((split.merged.meta.partialBuckets ?? []).map((t) => Date.parse(t) / 1000)),
    partialBars: new Map(),
    step: GRANULARITY_MS[$('granularity').value] / 1000 || 0,
    additive,
  };
  state.plot = plot;
  // Each series and its exact sum over the buckets: what tests compare with their own count.
  box.dataset.points = String(times.length);
  box.dataset.series = JSON.stringify(series.map((s) => ({ label: s.label, total: seriesTotal(s.merged) })));
  box.dataset.total = seriesTotal(series.flatMap((s) => s.merged));
  box.dataset.partial = (split.merged.meta.partialBuckets ?? []).join(' ');
  $('legend-partial').hidden = plot.partial.size === 0;
  $('legend-layers').hidden = true;
  const data = [plot.x, ...series.map((s) => s.merged.map(toNumber))];
  const key = `split|${view.name}|${measure.label}|${series.map((s) => s.key).join(',')}|${document.documentElement.dataset.theme}|${state.shownZone}`;
  if (state.chart && state.chartKey === key) {
    state.chart.setData(data);
    return;
  }
  state.chart?.destroy();
  state.chartKey = key;
  state.chart = new uPlot(splitOptions(series, additive, box.clientWidth), data, box);
  toggleByKeyboard(state.chart);
  showHiddenSeries();
}

/** uPlot's legend entries toggle on click only: each series' entry also takes the focus, Enter and Space. */
function toggleByKeyboard(u) {
  for (const [i, row] of [...u.root.querySelectorAll('.u-legend tr.u-series')].entries()) {
    if (i === 0) continue; // the time, not a series
    row.tabIndex = 0;
    row.setAttribute('role', 'button');
    row.setAttribute('aria-pressed', String(u.series[i].show));
    row.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' && event.key !== ' ') return;
      event.preventDefault();
      u.setSeries(i, { show: !u.series[i].show });
    });
  }
}

/** A split series' legend value: its value for the hovered bucket, and the batch and speed parts of it. */
const splitLegendValue = (i) => (_u, _v, _series, idx) => {
  const s = state.plot?.series?.[i];
  if (idx === null || idx === undefined || !s) return '–';
  return `${fmt(s.merged[idx])} (batch ${fmt(s.batch[idx])} · speed ${fmt(s.speed[idx])})`;
};

function splitOptions(series, additive, width) {
  const options = chartOptions(additive, width);
  options.series = [options.series[0], ...series.map((s, i) => ({
    label: s.label,
    stroke: s.other ? css('--muted') : SERIES_COLOURS[i % SERIES_COLOURS.length],
    width: 2,
    ...(s.other ? { dash: [6, 4] } : {}),
    show: !state.hiddenSeries.has(s.label),
    points: { size: 5 },
    value: splitLegendValue(i),
  }))];
  options.hooks = { ...options.hooks, setSeries: [noteToggle] };
  return options;
}

/** A click on a legend entry switched a series on or off: remembered for redraws and the URL. */
function noteToggle(u, index, opts) {
  if (index === null || index === undefined || opts?.show === undefined) return;
  const label = u.series[index].label;
  u.root.querySelectorAll('.u-legend tr.u-series')[index]?.setAttribute('aria-pressed', String(opts.show));
  if (opts.show) state.hiddenSeries.delete(label);
  else state.hiddenSeries.add(label);
  showHiddenSeries();
  writeUrl();
}

function showHiddenSeries() {
  $('chart').dataset.hidden = JSON.stringify([...state.hiddenSeries]);
}

// ---------- chart ----------

function seriesValues(times, answer, measure) {
  const byTime = new Map(answer.rows.map((r) => [Date.parse(r.time), measureCell(r, measure)]));
  return times.map((t) => {
    const v = byTime.get(t);
    return v === undefined || v === null ? null : Number(v);
  });
}

function clearChart(message) {
  state.chart?.destroy();
  state.chart = null;
  state.plot = null;
  $('chart').replaceChildren();
  $('chart').dataset.points = '0';
  delete $('chart').dataset.series;
  $('legend-partial').hidden = true;
  setState('chart-state', 'empty', message);
}

function emptyMessage() {
  return state.range.value === 'custom'
    ? 'No events in this range.'
    : 'No events in this range yet. Send some with POST /v1/events/{type} or tandem ingest.';
}

function renderChart(view, measure, merged, batch, speed) {
  const box = $('chart');
  showOtherNote(null);
  $('legend-layers').hidden = false;
  delete box.dataset.series;
  if (merged.rows.length === 0) return clearChart(emptyMessage());
  if (merged.rows[0].time === undefined) return clearChart('This view has no time dimension; see the table below.');
  setState('chart-state', null);
  const times = [...new Set(merged.rows.map((r) => Date.parse(r.time)))].sort((a, b) => a - b);
  const additive = ADDITIVE.has(view.measures[measure.name].type);
  const plot = {
    x: times.map((t) => t / 1000),
    batch: seriesValues(times, batch, measure),
    speed: seriesValues(times, speed, measure),
    total: seriesValues(times, merged, measure),
    partial: new Set((merged.meta.partialBuckets ?? []).map((t) => Date.parse(t) / 1000)),
    // Where uPlot drew each partial bucket's bar, by index, to hatch it.
    partialBars: new Map(),
    step: GRANULARITY_MS[$('granularity').value] / 1000 || 0,
    additive,
  };
  state.plot = plot;
  // What the chart shows, in numbers: lets tests and curious users check it without reading pixels.
  box.dataset.points = String(times.length);
  box.dataset.total = String(plot.total.reduce((sum, v) => sum + (v ?? 0), 0));
  box.dataset.partial = (merged.meta.partialBuckets ?? []).join(' ');
  $('legend-partial').hidden = plot.partial.size === 0;
  // Stacked for sums and counts: the total's bar is painted in the speed colour, the batch part over it;
  // the last series is the total again, not drawn, for the legend.
  const data = additive ? [plot.x, plot.total, plot.batch.map((v) => v ?? 0), plot.total] : [plot.x, plot.batch, plot.speed, plot.total];
  const key = `${view.name}|${measure.label}|${additive}|${document.documentElement.dataset.theme}|${state.shownZone}`;
  if (state.chart && state.chartKey === key) {
    state.chart.setData(data);
    return;
  }
  state.chart?.destroy();
  state.chartKey = key;
  state.chart = new uPlot(chartOptions(additive, box.clientWidth), data, box);
}

/** A legend value: each layer's own number for the hovered bucket, not the stacked height drawn. */
const legendValue = (layer) => (_u, _v, _series, idx) => {
  if (idx === null || idx === undefined || !state.plot) return '–';
  const value = state.plot[layer][idx];
  // No row from a layer means it holds nothing there: for counts and sums, zero.
  return fmt(value === null && state.plot.additive ? 0 : value);
};

function bucketLabel(_u, ts) {
  if (ts === null || ts === undefined) return '–';
  const label = zonedLabel(ts * 1000, state.shownZone);
  const day = (state.plot?.step ?? 0) * 1000 >= DAY;
  return `${day ? label.slice(0, 10) : label}${state.plot?.partial.has(ts) ? ' (partial)' : ''}`;
}

/** uPlot's per-bar callback: notes where the full-height bar (the first series) of a partial bucket lies. */
function notePartialBar(_u, series, idx, left, top, width, height) {
  const plot = state.plot;
  if (series === 1 && plot?.partial.has(plot.x[idx])) plot.partialBars.set(idx, { left, top, width, height });
}

function chartSeries(additive) {
  const bars = uPlot.paths.bars({ size: [0.8, 40], each: notePartialBar });
  const hidden = { paths: () => null, points: { show: false } };
  if (additive) {
    return [
      // Opaque fills: the batch bar is painted over the total's bar, and must hide it where they overlap.
      { label: 'speed layer', stroke: css('--speed'), fill: css('--speed-solid'), paths: bars, points: { show: false }, value: legendValue('speed') },
      { label: 'batch view', stroke: css('--batch'), fill: css('--batch-solid'), paths: bars, points: { show: false }, value: legendValue('batch') },
      { label: 'total', stroke: css('--text'), ...hidden, value: legendValue('total') },
    ];
  }
  return [
    { label: 'batch view', stroke: css('--batch'), width: 2, value: legendValue('batch') },
    { label: 'speed layer', stroke: css('--speed'), width: 2, value: legendValue('speed') },
    { label: 'merged', stroke: css('--text'), width: 1, dash: [4, 4], value: legendValue('total') },
  ];
}

function chartOptions(additive, width) {
  const axis = { stroke: css('--text'), grid: { stroke: css('--border'), width: 1 }, ticks: { stroke: css('--border') } };
  return {
    width: Math.max(280, width),
    height: 300,
    series: [{ label: `time (${state.shownZone})`, value: bucketLabel }, ...chartSeries(additive)],
    // The server's buckets are the zone's local days and hours: so are the axis's ticks and the range inputs.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), state.shownZone),
    scales: { x: { time: true, range: xRange }, ...(additive ? { y: { range: zeroBased } } : {}) },
    axes: [{ ...axis, values: xAxisLabels }, { ...axis, size: yAxisSize, values: yAxisLabels }],
    cursor: { drag: { x: true, y: false, setScale: false } },
    legend: { show: true },
    hooks: { draw: [drawPartial, drawBoundary, describeScales], setSelect: [zoomToSelection] },
  };
}

/** The time axis's labels, also as an attribute (one tick a line): the canvas holds them only as pixels. */
function xAxisLabels(...args) {
  const labels = timeAxisLabels(...args.slice(0, 5), state.shownZone);
  $('chart').dataset.xLabels = labels.map((l) => l.replace('\n', ' ')).join('\n');
  return labels;
}

function yAxisLabels(_u, ticks) {
  const labels = ticks.map(compact);
  $('chart').dataset.yLabels = labels.join(' ');
  return labels;
}

/** Wide enough for the longest label: a fixed width clipped 26,200,000 to ",200,000". */
function yAxisSize(_u, values) {
  const longest = Math.max(1, ...(values ?? []).map((v) => v.length));
  return 18 + longest * 7.5;
}

/** Counts and sums are measured from zero: a bar that starts above it misstates its size. */
function zeroBased(_u, min, max) {
  if (min === null || max === null) return [0, 1];
  const [low, high] = uPlot.rangeNum(Math.min(0, min), Math.max(0, max), 0.1, true);
  const range = [min >= 0 ? 0 : low, max <= 0 ? 0 : high];
  return range[0] === range[1] ? [range[0], range[0] + 1] : range;
}

/** The data's buckets framed whole; a custom range is shown whole too, and a relative one up to now and the last batch. */
function xRange(_u, min, max) {
  const step = state.plot?.step ?? 0;
  const { value, custom } = state.range;
  if (value === 'all') return [min - step / 2, max + step / 2];
  if (value === 'custom') return [Math.min(custom.from / 1000, min - step / 2), Math.max(custom.to / 1000, max + step / 2)];
  const now = Date.now() / 1000;
  const createdAt = state.status?.batch?.createdAt;
  const boundary = createdAt ? Date.parse(createdAt) / 1000 : max;
  return [Math.min(min, now - Number(value) / 1000), Math.max(max + step, Math.min(boundary + step / 4, now + step))];
}

/** The scales drawn, as attributes: tests and users can check the frame without reading pixels. */
function describeScales(u) {
  const box = $('chart');
  box.dataset.xMin = iso(u.scales.x.min * 1000);
  box.dataset.xMax = iso(u.scales.x.max * 1000);
  box.dataset.yMin = String(u.scales.y.min);
  box.dataset.yMax = String(u.scales.y.max);
}

function hatch(ctx) {
  const size = Math.round(8 * devicePixelRatio);
  const tile = document.createElement('canvas');
  tile.width = size;
  tile.height = size;
  const t = tile.getContext('2d');
  t.strokeStyle = css('--partial');
  t.lineWidth = devicePixelRatio;
  t.beginPath();
  // The diagonal and its two corner pieces, so tiles join into unbroken lines.
  for (const [x0, y0, x1, y1] of [[0, size, size, 0], [-1, 1, 1, -1], [size - 1, size + 1, size + 1, size - 1]]) {
    t.moveTo(x0, y0);
    t.lineTo(x1, y1);
  }
  t.stroke();
  return ctx.createPattern(tile, 'repeat');
}

/** A line chart has no bar to mark: the bucket's whole column is. */
function partialColumns(u, plot) {
  return [...plot.partial].map((t) => {
    const left = u.valToPos(t - plot.step / 2, 'x', true);
    return { left, top: u.bbox.top, width: u.valToPos(t + plot.step / 2, 'x', true) - left, height: u.bbox.height };
  });
}

/** Buckets the range cuts hold only part of their time: washed out and hatched, so a short bar does not read as a dip. */
function drawPartial(u) {
  const plot = state.plot;
  if (!plot || plot.partial.size === 0) return;
  const ctx = u.ctx;
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  const pattern = hatch(ctx);
  for (const { left, top, width, height } of plot.additive && !plot.split ? plot.partialBars.values() : partialColumns(u, plot)) {
    ctx.globalAlpha = 0.45;
    ctx.fillStyle = css('--card');
    ctx.fillRect(left, top, width, height);
    ctx.globalAlpha = 1;
    ctx.fillStyle = pattern;
    ctx.fillRect(left, top, width, height);
  }
  ctx.restore();
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

/** An empty table has no header: the message stands in its place instead of over it. */
function emptyTable(message) {
  const table = $('top');
  table.querySelector('thead').replaceChildren();
  table.querySelector('tbody').replaceChildren();
  setState('table-state', 'empty', message);
}

async function renderTop(view, measure, query) {
  const dim = tableDimension(view);
  if (!dim) return emptyTable('This view has no dimensions to rank.');
  const base = { ...query, groupBy: [dim], granularity: 'all' };
  const [top, batch, speed] = await Promise.all([
    api('/v1/query', { ...base, orderBy: [rankBy(measure)], limit: 10 }),
    api('/v1/query', { ...base, layer: 'batch' }),
    api('/v1/query', { ...base, layer: 'speed' }),
  ]);
  if (top.rows.length === 0) return emptyTable('No rows in this range.');
  const byKey = (answer) => new Map(answer.rows.map((r) => [JSON.stringify(r[dim]), measureCell(r, measure)]));
  const batchBy = byKey(batch);
  const speedBy = byKey(speed);
  const additive = ADDITIVE.has(view.measures[measure.name].type);
  const table = $('top');
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
      // At phone width the header is hidden and the layer cells carry their own short label.
      if (i > 1) td.dataset.label = i === 2 ? 'batch' : 'speed';
      tr.append(td);
    });
    if (additive) tr.append(splitCell(Number(batchBy.get(key) ?? 0), Number(speedBy.get(key) ?? 0)));
    return tr;
  });
  table.querySelector('tbody').replaceChildren(...rows);
  setState('table-state', null, '');
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

async function runBatch() {
  const button = $('run-batch');
  button.disabled = true;
  try {
    await api('/v1/batch', {});
  } catch (error) {
    setState('chart-state', 'error', error.message);
  } finally {
    button.disabled = false;
  }
}

function onViewChange() {
  state.queryEdited = false;
  state.granularityChosen = false;
  state.hiddenSeries.clear();
  state.pendingWhere = null;
  // Until the user picks a range, each view opens on the default, or on its data when that is empty.
  if (!state.rangeChosen) {
    state.range = { value: DEFAULT_RANGE, custom: null };
    state.autoRange = true;
    setNote('');
  }
  fillViewControls();
  scheduleRefresh(true);
}

function bindControls() {
  $('run-batch').addEventListener('click', () => void runBatch());
  $('run-query').addEventListener('click', () => void runQueryBox());
  $('query-text').addEventListener('input', () => (state.queryEdited = true));
  $('controls').addEventListener('submit', (event) => event.preventDefault());
  $('view').addEventListener('change', onViewChange);
  for (const id of ['measure', 'top-n']) $(id).addEventListener('change', () => scheduleRefresh(true));
  $('group-by').addEventListener('change', () => {
    state.hiddenSeries.clear();
    showSplitControls();
    scheduleRefresh(true);
  });
  $('granularity').addEventListener('change', () => {
    state.granularityChosen = true;
    scheduleRefresh(true);
  });
  $('range').addEventListener('change', onRangeSelect);
  for (const id of ['range-from', 'range-to']) $(id).addEventListener('change', onRangeInput);
  $('range-back').addEventListener('click', previousRange);
  $('time-zone').addEventListener('change', onZoneSelect);
  $('time-zone-other').addEventListener('change', () => setTimeZone($('time-zone-other').value));
  new ResizeObserver(() => {
    if (state.chart) state.chart.setSize({ width: Math.max(280, $('chart').clientWidth), height: 300 });
  }).observe($('chart'));
}

async function start() {
  initTheme();
  initKeyControls();
  void connectStatus();
  fillTimeZones();
  bindControls();
  await loadViews();
}

/** The views the explorer offers: at start, and again whenever a view changes while serving. */
async function loadViews() {
  try {
    const { views } = await api('/v1/views');
    const chosen = $('view').value;
    state.views = views;
    if (views.length === 0) {
      setState('chart-state', 'empty', 'No views are defined; add some to the config.');
      return;
    }
    $('view').replaceChildren(...views.map((v) => option(v.name)));
    if (views.some((v) => v.name === chosen)) $('view').value = chosen;
    const linked = state.urlReady ? null : decodeExplorerState(location.search);
    if (linked?.timeZone) setTimeZone(linked.timeZone, false);
    if (linked) restoreView(linked);
    // The filters set stay set when the list is refilled while serving.
    else if ($('view').value === chosen) state.pendingWhere = where();
    fillViewControls();
    if (linked) restoreControls(linked);
    state.urlReady = true;
    await refresh();
  } catch (error) {
    setState('chart-state', 'error', error.message);
  }
}

// ---------- the URL ----------

/** The view a link names, if this server has it; said in one sentence if not. */
function restoreView(linked) {
  if (linked.view === undefined) return;
  if (state.views.some((v) => v.name === linked.view)) {
    $('view').value = linked.view;
    // Filters are shown once their selects are built: set before fillViewControls builds them.
    state.pendingWhere = linked.where;
  } else {
    setNote(`This link names the view ${linked.view}, which this server does not have; showing ${$('view').value}.`);
  }
}

/** Selects `value` when the select offers it; says whether it did. */
function selectIfOffered(id, value) {
  if (value === undefined || ![...$(id).options].some((o) => o.value === value)) return false;
  $(id).value = value;
  return true;
}

/** The rest of a link's state, over the controls its view filled; what they do not offer is left at its default. */
function restoreControls(linked) {
  if (linked.view !== $('view').value) return;
  selectIfOffered('measure', linked.measure);
  if (selectIfOffered('granularity', linked.granularity)) state.granularityChosen = true;
  if (linked.range && (linked.range.value === 'custom' || [...$('range').options].some((o) => o.value === linked.range.value))) {
    state.range = linked.range;
    state.rangeChosen = true;
    state.autoRange = false;
  }
  selectIfOffered('group-by', linked.split);
  selectIfOffered('top-n', linked.top === undefined ? undefined : String(linked.top));
  showSplitControls();
  state.hiddenSeries = new Set(linked.hidden);
}

/** The explorer's state into the URL, replacing the entry: a link to what is shown, without a history step per click. */
function writeUrl() {
  const view = currentView();
  if (!state.urlReady || !view) return;
  const split = splitDimension();
  const search = encodeExplorerState({
    view: view.name,
    measure: $('measure').value,
    range: state.range,
    granularity: state.granularityChosen ? $('granularity').value : undefined,
    split: split || undefined,
    top: Number($('top-n').value),
    where: where(),
    hidden: split ? [...state.hiddenSeries] : [],
    timeZone: state.timeZone === 'UTC' ? undefined : state.timeZone,
  });
  if (location.search !== `?${search}`) history.replaceState(null, '', `?${search}${location.hash}`);
}

void start();
