// guardian's live dashboard: loads the state from the status API once connected, then follows
// the WebSocket's events (snapshot, alert, alert_resolved, level_changed, server, tests, run_*).
// Reconnects by itself (backoff 0.5 s → 5 s) and says so while disconnected.
(() => {
  'use strict';

  const LEVELS = ['IDLE', 'NORMAL', 'INTENSIVE', 'CRITICAL'];
  const MAX_POINTS = 2000;
  const MAX_ALERTS = 200;
  const token = new URLSearchParams(location.search).get('token') || '';
  const $ = (id) => document.getElementById(id);

  const state = {
    time: [], cpu: [], memory: [], level: [],
    thresholds: { cpu: {}, memory: {} },
    alerts: [], alertIds: new Set(), resolvedIds: new Set(),
    levelChanges: [],
    servers: {}, latency: {},  // latency: name -> {time: [], ms: []}
    tests: null,  // the test adapter's section, as last received (status, "tests" events, the report)
    startedAt: null, state: null, lastSnapshot: 0,
    ws: null, retryMs: 500, retryTimer: null, connected: false, everConnected: false,
  };
  const charts = {};
  window.guardianDashboard = { state, charts };  // for the browser tests and the curious

  // ---- helpers --------------------------------------------------------------------------
  const seconds = (iso) => { const t = Date.parse(iso); return Number.isFinite(t) ? t / 1000 : null; };
  const fmtPercent = (v) => (v === null || v === undefined ? '–' : `${v.toFixed(1)} %`);
  const fmtBytes = (b) => {
    if (b === null || b === undefined) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i += 1; }
    return `${b.toFixed(i ? 1 : 0)} ${units[i]}`;
  };
  const fmtMs = (ms) => (ms === null || ms === undefined ? '–' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`);
  const fmtTime = (iso) => { const d = new Date(iso); return Number.isFinite(d.getTime()) ? d.toLocaleTimeString() : iso; };
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') node.className = v; else node.setAttribute(k, v);
    }
    for (const child of children) node.append(child);
    return node;
  };
  const api = async (path) => {
    const response = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  };

  // Where `t` goes in the sorted array `times` (the first index whose time is >= t).
  const lowerBound = (times, t) => {
    let lo = 0, hi = times.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (times[mid] < t) lo = mid + 1; else hi = mid; }
    return lo;
  };

  // ---- charts -------------------------------------------------------------------------
  // The time axis spans the run: from its start (or the first point) to the newest point,
  // whatever order the history and the live points arrived in.
  const runSpan = (u, min, max) => {
    const first = state.startedAt !== null && state.startedAt <= (min ?? Infinity) ? state.startedAt : min;
    const last = Math.max(max ?? first, (first ?? 0) + 1);
    return [first, last];
  };
  const chartWidth = (id) => Math.max(300, $(id).clientWidth || 600);
  function makeChart(id, opts, data) {
    if (!window.uPlot) {
      $(id).textContent = 'chart library not embedded: run scripts/install-deps.sh and rebuild guardian';
      return null;
    }
    if (charts[id]) charts[id].destroy();
    charts[id] = new window.uPlot({ width: chartWidth(id), height: opts.height || 180, ...opts }, data, $(id));
    return charts[id];
  }
  const axisStyle = { stroke: '#8a96a3', grid: { stroke: '#27303a' }, ticks: { stroke: '#27303a' } };
  const constant = (value, n) => (value === undefined || value === null ? new Array(n).fill(null) : new Array(n).fill(value));

  function resourcesData() {
    const n = state.time.length;
    const t = state.thresholds;
    return [state.time, state.cpu, state.memory,
      constant(t.cpu.warning_percent, n), constant(t.cpu.critical_percent, n),
      constant(t.memory.warning_percent, n), constant(t.memory.critical_percent, n)];
  }
  function buildResourcesChart() {
    makeChart('resources-chart', {
      height: 220,
      scales: { x: { time: true, range: runSpan }, y: { range: (u, min, max) => [0, Math.max(100, max || 0)] } },
      axes: [axisStyle, { ...axisStyle, values: (u, vals) => vals.map((v) => `${v}%`) }],
      series: [{},
        { label: 'CPU % of ceiling', stroke: '#58a6ff', width: 2, fill: 'rgba(88,166,255,.12)' },
        { label: 'memory % of ceiling', stroke: '#bc8cff', width: 2 },
        { label: 'CPU warning', stroke: '#d29922', dash: [6, 4], width: 1, points: { show: false } },
        { label: 'CPU critical', stroke: '#f85149', dash: [6, 4], width: 1, points: { show: false } },
        { label: 'memory warning', stroke: '#d2992288', dash: [2, 4], width: 1, points: { show: false } },
        { label: 'memory critical', stroke: '#f8514988', dash: [2, 4], width: 1, points: { show: false } }],
    }, resourcesData());
  }
  function buildLevelChart() {
    const stepped = window.uPlot && window.uPlot.paths && window.uPlot.paths.stepped ? window.uPlot.paths.stepped({ align: 1 }) : undefined;
    makeChart('level-chart', {
      height: 120,
      scales: { x: { time: true, range: runSpan }, y: { range: [0, 3.2] } },
      axes: [axisStyle, { ...axisStyle, splits: () => [0, 1, 2, 3], values: (u, vals) => vals.map((v) => LEVELS[v] || '') , size: 80 }],
      series: [{}, { label: 'level', stroke: '#db6d28', width: 2, fill: 'rgba(219,109,40,.25)', paths: stepped }],
    }, [state.time, state.level]);
  }
  function latencyData() {
    const names = Object.keys(state.latency).sort();
    const times = [...new Set(names.flatMap((n) => state.latency[n].time))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    const series = names.map((n) => {
      const ys = new Array(times.length).fill(null);
      state.latency[n].time.forEach((t, i) => { ys[index.get(t)] = state.latency[n].ms[i]; });
      return ys;
    });
    return { names, data: [times, ...series] };
  }
  const palette = ['#3fb950', '#58a6ff', '#d29922', '#bc8cff', '#f85149', '#39c5cf'];
  function buildLatencyChart() {
    const { names, data } = latencyData();
    if (!names.length) return;
    makeChart('latency-chart', {
      height: 150,
      scales: { x: { time: true, range: runSpan } },
      axes: [axisStyle, { ...axisStyle, values: (u, vals) => vals.map((v) => `${v} ms`), size: 75 }],
      series: [{}, ...names.map((n, i) => ({ label: `${n} probe ms`, stroke: palette[i % palette.length], width: 2, spanGaps: true }))],
    }, data);
    charts.latencyNames = names.join(',');
  }
  function alertsPerHour() {
    const buckets = new Map();
    for (const a of state.alerts) {
      const t = seconds(a.ts || a.time);
      if (t === null) continue;
      const hour = Math.floor(t / 3600) * 3600;
      buckets.set(hour, (buckets.get(hour) || 0) + 1);
    }
    const hours = [...buckets.keys()].sort((a, b) => a - b);
    if (hours.length === 1) hours.unshift(hours[0] - 3600);  // a bar needs a neighbour for its width
    return [hours, hours.map((h) => buckets.get(h) || 0)];
  }
  function buildAlertsHourChart() {
    const data = alertsPerHour();
    if (!data[0].length) return;
    const bars = window.uPlot && window.uPlot.paths && window.uPlot.paths.bars ? window.uPlot.paths.bars({ size: [0.6, 60] }) : undefined;
    makeChart('alerts-hour-chart', {
      height: 110,
      scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [axisStyle, { ...axisStyle, size: 40 }],
      legend: { show: false },
      series: [{}, { label: 'alerts', stroke: '#f85149', fill: 'rgba(248,81,73,.5)', paths: bars, points: { show: false } }],
    }, data);
  }
  let redrawPending = false;
  function redraw() {
    if (redrawPending) return;
    redrawPending = true;
    requestAnimationFrame(() => {
      redrawPending = false;
      if (charts['resources-chart']) charts['resources-chart'].setData(resourcesData());
      else buildResourcesChart();
      if (charts['level-chart']) charts['level-chart'].setData([state.time, state.level]);
      else buildLevelChart();
      const { names, data } = latencyData();
      if (names.length) {
        if (charts['latency-chart'] && charts.latencyNames === names.join(',')) charts['latency-chart'].setData(data);
        else buildLatencyChart();
      }
      buildAlertsHourChart();
    });
  }
  window.addEventListener('resize', () => {
    for (const id of ['resources-chart', 'level-chart', 'latency-chart', 'alerts-hour-chart']) {
      if (charts[id]) charts[id].setSize({ width: chartWidth(id), height: charts[id].height });
    }
  });

  // ---- state updates ----------------------------------------------------------------------
  // A snapshot goes where its time says: the history loaded from the API usually arrives
  // after the first live snapshots from the WebSocket, and must not be thrown away.
  function addSnapshot(s) {
    const t = seconds(s.time);
    if (t === null) return;
    const at = lowerBound(state.time, t);
    if (state.time[at] === t) return;  // seen already
    const tree = s.tree || {};
    state.time.splice(at, 0, t);
    state.cpu.splice(at, 0, tree.cpu_percent_of_ceiling ?? null);
    state.memory.splice(at, 0, tree.memory_percent_of_ceiling ?? null);
    state.level.splice(at, 0, Math.max(0, LEVELS.indexOf(s.level)));
    if (state.time.length > MAX_POINTS) for (const a of [state.time, state.cpu, state.memory, state.level]) a.shift();
    redraw();
    if (t < state.lastSnapshot) return;  // older: the "now" figures stay the newest's
    state.lastSnapshot = t;
    $('cpu-now').textContent = fmtPercent(tree.cpu_percent_of_ceiling);
    $('memory-now').textContent = fmtPercent(tree.memory_percent_of_ceiling);
    $('memory-bytes').textContent = `${fmtBytes(tree.memory_bytes)} / ${fmtBytes(tree.memory_ceiling_bytes)}`;
    $('processes-now').textContent = tree.processes ?? '–';
    setLevel(s.level);
  }
  function setLevel(level, reason) {
    const node = $('run-level');
    node.textContent = `level ${level}`;
    node.className = `pill level level-${level}`;
    if (reason) node.title = reason;
  }
  function addLevelChange(ts, from, to, reason) {
    const key = `${from}|${to}|${reason}`;
    const t = seconds(ts);
    if (state.levelChanges.some((c) => c.key === key && Math.abs(seconds(c.ts) - t) < 2)) return;
    state.levelChanges.unshift({ key, ts, from, to, reason });
    const list = $('level-changes');
    list.prepend(el('li', { class: `level-${to}` }, `${fmtTime(ts)} ${from} → ${to}: ${reason || ''}`));
    while (list.children.length > 50) list.lastChild.remove();
  }
  function alertNode(a) {
    const resolved = state.resolvedIds.has(a.id) || a.resolved_at;
    const li = el('li', { class: `severity-${a.severity}${resolved ? ' resolved' : ''}`, 'data-alert-id': String(a.id), 'data-type': a.type },
      el('span', { class: 'when' }, fmtTime(a.ts || a.time)),
      el('span', { class: 'type' }, a.type),
      el('span', { class: 'title' }, a.title || ''),
    );
    li.title = a.message || '';
    return li;
  }
  function addAlert(a, live) {
    if (a.id !== undefined && state.alertIds.has(a.id)) return;
    if (a.id !== undefined) state.alertIds.add(a.id);
    if (a.resolves !== undefined && a.resolves !== null) markResolved(a.resolves);
    if (live) state.alerts.unshift(a); else state.alerts.push(a);
    const list = $('alerts');
    if (live) list.prepend(alertNode(a)); else list.append(alertNode(a));
    while (list.children.length > MAX_ALERTS) list.lastChild.remove();
    if (state.alerts.length > 5000) state.alerts.pop();
    // Live, the level_changed event tells (it is never rate-limited); the alerts fill the history.
    if (!live.fromSocket && a.type === 'LEVEL_CHANGED' && a.context) addLevelChange(a.ts || a.time, a.context.from, a.context.to, a.context.reason);
    if (a.type === 'TEST_FAILED') addFailure(a);
    renderAlertSummary();
    if (live) redraw();
  }
  function markResolved(id) {
    state.resolvedIds.add(id);
    const node = document.querySelector(`#alerts li[data-alert-id="${id}"]`);
    if (node) node.classList.add('resolved');
  }
  function renderAlertSummary() {
    $('alert-count').textContent = `(${state.alerts.length})`;
    const counts = new Map();
    for (const a of state.alerts) counts.set(a.type, (counts.get(a.type) || 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    $('top-types').replaceChildren(...top.map(([type, n]) => el('li', {}, `${type}: ${n}`)));
  }
  function addFailure(a) {
    if (state.tests) return;  // the adapter's own list is shown (and kept current by its events)
    const subject = a.subject || (a.context && a.context.nodeid) || a.title;
    $('test-failures').prepend(el('li', { class: 'severity-warning' }, `${subject}`));
    $('tests-summary').textContent = 'failures reported by the test adapter';
  }
  // A measured test: its id, then what it cost, the list's own measure first. A peak the
  // kernel would not let guardian reset is the largest resident size seen: marked "≈".
  function costNode(t, first) {
    const peak = `${t.peak_memory_exact === false ? '≈' : ''}${fmtBytes(t.peak_memory_bytes)} peak`;
    const cpu = `${fmtMs(t.cpu_ms)} CPU`;
    const li = el('li', { 'data-nodeid': t.nodeid },
      el('span', { class: 'nodeid' }, t.nodeid), ' — ',
      el('span', { class: 'cost' }, first === 'memory' ? `${peak} · ${cpu}` : `${cpu} · ${peak}`));
    li.title = `${t.outcome || ''} in ${fmtMs(t.duration_ms)}${t.worker ? ` on ${t.worker}` : ''}`;
    return li;
  }
  // No list at all: the results came from an adapter that does not measure tests (JUnit files).
  function renderCosts(id, list, first) {
    const finished = state.state === 'finished';
    if (!Array.isArray(list) && !finished) return;
    const empty = !Array.isArray(list) ? 'not measured: the test results came without per-test resources'
      : finished ? 'no test measured in this run' : 'no test measured (yet)';
    $(id).replaceChildren(...(Array.isArray(list) && list.length ? list.map((t) => costNode(t, first))
      : [el('li', { class: 'empty' }, empty)]));
  }
  function renderTests(tests) {
    if (!tests) return;
    // An answer older than what a live event already showed (fewer tests) is dropped.
    if (state.tests && (tests.total ?? 0) < (state.tests.total ?? 0)) return;
    state.tests = tests;
    const counts = tests.counts || {};
    $('tests-summary').textContent = `${tests.total ?? 0} tests · ${counts.passed ?? 0} passed · ${counts.failed ?? 0} failed · ${(tests.duration_s ?? 0).toFixed(1)} s`;
    if (Array.isArray(tests.failures)) $('test-failures').replaceChildren(...tests.failures.map((f) => el('li', {}, `${f.nodeid} (${f.outcome})`)));
    if (Array.isArray(tests.slowest)) $('test-slowest').replaceChildren(...tests.slowest.map((t) => el('li', {}, `${t.nodeid} — ${(t.duration_s ?? 0).toFixed(2)} s`)));
    renderCosts('test-heaviest', tests.heaviest, 'memory');
    renderCosts('test-heaviest-cpu', tests.heaviest_cpu, 'cpu');
  }
  // One probe latency, in time order (the API's history and live events may interleave).
  function addLatency(name, t, ms) {
    const series = state.latency[name] || (state.latency[name] = { time: [], ms: [] });
    const at = lowerBound(series.time, t);
    if (series.time[at] === t) return;
    series.time.splice(at, 0, t);
    series.ms.splice(at, 0, ms);
    if (series.time.length > MAX_POINTS) { series.time.shift(); series.ms.shift(); }
  }
  // The uptime is the core's count (probes answered since the server was first healthy), the
  // same the status API gives: never recomputed from what this page happened to see.
  const uptimeOf = (s) => (typeof s.probes === 'number' && s.probes > 0 && typeof s.probes_ok === 'number'
    ? (100 * s.probes_ok) / s.probes : null);
  function updateServer(name, s) {
    const srv = { ...(state.servers[name] || {}), ...s };
    srv.uptime_percent = uptimeOf(srv) ?? srv.uptime_percent ?? null;
    if (s.probe && typeof s.probe.latency_ms === 'number') {
      addLatency(name, seconds(s.ts) ?? Date.now() / 1000, s.probe.latency_ms);
      srv.last_probe_latency_ms = s.probe.latency_ms;
    }
    state.servers[name] = srv;
    renderServers();
    redraw();
  }
  function renderServers() {
    const names = Object.keys(state.servers).sort();
    const body = $('servers').tBodies[0];
    if (!names.length) return;
    body.replaceChildren(...names.map((n) => {
      const s = state.servers[n];
      return el('tr', { 'data-server': n },
        el('td', {}, n),
        el('td', { class: `state-${s.state}` }, `${s.state || '?'}${s.flapping ? ' (flapping)' : ''}`),
        el('td', {}, String(s.restarts ?? 0)),
        el('td', {}, s.uptime_percent === null || s.uptime_percent === undefined ? '–' : `${s.uptime_percent.toFixed(1)} %`),
        el('td', {}, s.last_probe_latency_ms === null || s.last_probe_latency_ms === undefined ? '–'
          : s.last_probe_latency_ms < 1 ? '< 1 ms' : `${Math.round(s.last_probe_latency_ms)} ms`));
    }));
  }
  function renderRun(status) {
    const run = status.run || {};
    $('run-command').textContent = Array.isArray(run.command) ? run.command.join(' ') : (run.command || '');
    $('run-mode').textContent = `mode ${run.mode ?? '?'}`;
    $('run-backend').textContent = `backend ${status.backend ?? '?'}`;
    setRunState(run.state);
    state.startedAt = seconds(run.started_at);
    if (status.monitor) setLevel(status.monitor.level, status.monitor.reason);
    const th = status.thresholds || {};
    state.thresholds = { cpu: th.cpu || {}, memory: th.memory || {} };
    for (const [name, s] of Object.entries(status.servers || {})) {
      const history = s.latency_history || {};
      (history.time_s || []).forEach((t, i) => addLatency(name, t, history.ms[i]));
      const { latency_history: _ignored, ...rest } = s;
      // A live event newer than this answer may have arrived first: keep its counts.
      const known = state.servers[name] || {};
      const newer = (known.probes ?? -1) > (rest.probes ?? -1);
      state.servers[name] = newer ? { ...rest, ...known } : { ...known, ...rest };
      state.servers[name].uptime_percent = uptimeOf(state.servers[name]) ?? rest.uptime_percent ?? null;
    }
    renderServers();
    renderTests(status.tests);
  }
  function setRunState(value) {
    state.state = value;
    $('run-state').textContent = `state ${value ?? '?'}`;
  }
  setInterval(() => {
    if (state.startedAt === null || state.state === 'finished') return;
    const s = Math.max(0, Date.now() / 1000 - state.startedAt);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
    $('run-elapsed').textContent = h ? `${h} h ${m} min` : m ? `${m} min ${sec} s` : `${sec} s`;
  }, 1000);

  // ---- connection -----------------------------------------------------------------------
  function setConnection(kind, text) {
    const node = $('connection');
    node.className = `connection ${kind}`;
    node.textContent = text;
    document.body.classList.toggle('disconnected', kind === 'disconnected');
    document.body.dataset.connection = kind;
  }
  async function loadState() {
    const [status, snapshots, alerts] = await Promise.all([
      api('/api/monitoring/status'),
      api('/api/monitoring/snapshots/recent?minutes=60'),
      api('/api/monitoring/alerts/active?limit=500'),
    ]);
    const runId = status.run && status.run.id;
    if (state.runId && runId !== state.runId) resetRun();  // guardian restarted: a new run
    state.runId = runId;
    renderRun(status);
    for (const s of snapshots.snapshots || []) addSnapshot(s);
    // Oldest first, so the newest ends on top.
    for (const a of (alerts.recent || []).slice().reverse()) addAlert(a, true);
    buildResourcesChart();
    buildLevelChart();
    redraw();
  }
  function resetRun() {
    for (const a of [state.time, state.cpu, state.memory, state.level, state.alerts, state.levelChanges]) a.length = 0;
    state.alertIds.clear();
    state.resolvedIds.clear();
    state.servers = {};
    state.latency = {};
    state.lastSnapshot = 0;
    state.tests = null;
    for (const id of ['alerts', 'level-changes', 'test-failures', 'test-slowest', 'top-types']) $(id).replaceChildren();
    for (const id of ['test-heaviest', 'test-heaviest-cpu']) $(id).replaceChildren(el('li', { class: 'empty' }, 'no test measured (yet)'));
    $('tests-summary').textContent = 'no test results reported (yet)';
  }
  function handle(message) {
    let event;
    try { event = JSON.parse(message.data); } catch (e) { return; }
    switch (event.kind) {
      case 'snapshot': addSnapshot(event.snapshot || {}); break;
      case 'alert': addAlert(event.alert || {}, { fromSocket: true }); break;
      case 'alert_resolved': if (event.alert) markResolved(event.alert.id); break;
      case 'level_changed': {
        const c = event.context || {};
        if (c.to) { addLevelChange(event.ts, c.from, c.to, c.reason); setLevel(c.to, c.reason); }
        break;
      }
      case 'server': updateServer(event.server, event); break;
      case 'tests': renderTests(event.tests); break;
      case 'run_started': setRunState('running'); break;
      case 'run_finished': {
        setRunState('finished');
        const report = event.report || {};
        renderTests(report.tests || (report.sections && report.sections.tests));
        break;
      }
      default: break;
    }
  }
  function connect() {
    clearTimeout(state.retryTimer);
    setConnection(state.everConnected ? 'disconnected' : 'connecting', state.everConnected ? 'disconnected — reconnecting…' : 'connecting…');
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
    let ws;
    try { ws = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
    state.ws = ws;
    ws.onopen = () => {
      state.connected = true;
      state.everConnected = true;
      state.retryMs = 500;
      setConnection('live', 'live');
      loadState().catch((e) => { console.warn(`guardian: loading the state failed: ${e.message}`); });
    };
    ws.onmessage = handle;
    ws.onclose = () => {
      if (state.ws !== ws) return;
      state.connected = false;
      scheduleReconnect();
    };
    ws.onerror = () => { /* onclose follows and reconnects */ };
  }
  function scheduleReconnect() {
    const wait = state.retryMs;
    state.retryMs = Math.min(5000, state.retryMs * 2);
    setConnection('disconnected', `disconnected from guardian — retrying in ${(wait / 1000).toFixed(1)} s`);
    state.retryTimer = setTimeout(connect, wait);
  }

  buildResourcesChart();
  buildLevelChart();
  connect();
})();
