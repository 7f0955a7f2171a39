// mathreel's web page: sends a problem or Manim code, follows the job live
// (Server-Sent Events, polling when they fail) and shows the one-time link.
// Server text is only ever set with textContent, never parsed as HTML.
'use strict';
(function () {
  const SESSION_KEY = 'mathreel.session';
  const POLL_MS = 2000;
  const STATUSES = {
    queued: { words: 'Queued', progress: 5 },
    ai_generating: { words: 'Writing the animation code', progress: 50 },
    code_validating: { words: 'Checking the code', progress: 60 },
    rendering: { words: 'Rendering the video', progress: 80 },
    uploading: { words: 'Preparing your link', progress: 95 },
    ready: { words: 'Ready', progress: 100 },
    delivered: { words: 'Delivered', progress: 100 },
    failed: { words: 'Failed', progress: null },
    expired: { words: 'Expired', progress: null },
  };
  // A lesson's stage, when the job has one, says more than its status.
  const STAGES = {
    initializing: 'Getting started',
    planning: 'Planning the lesson',
    scenario_creation: 'Writing each scene',
    code_generation: 'Writing the animation code',
    rendering: 'Rendering the scenes',
    combining: 'Joining the scenes',
    storage: 'Preparing your link',
  };
  const SCENE_WORDS = {
    queued: 'waiting',
    generating_code: 'writing its code',
    rendering: 'rendering',
    ready: 'ready',
    error: 'could not be drawn',
  };
  const KINDS = {
    problem: {
      label: 'Your math problem',
      hint: 'Write it in words or symbols: 10 to 5,000 characters.',
      placeholder: 'Solve x^2 - 5x + 6 = 0',
      url: '/api/v1/jobs',
      field: 'problem_text',
    },
    code: {
      label: 'Your Manim code',
      hint: 'Python code with one Manim Scene: at most 50 KB.',
      placeholder: 'from manim import *\n\nclass Solution(Scene):\n    def construct(self):\n        self.play(Write(MathTex("x = 2")))',
      url: '/api/v1/code',
      field: 'code',
    },
  };

  const $ = (id) => document.getElementById(id);
  const form = $('job-form');
  const textarea = $('text');
  const textLabel = $('text-label');
  const hint = $('text-hint');
  const quality = $('quality');
  const submit = $('submit');
  const errorBox = $('error');
  const panel = $('job-panel');
  const bar = $('progress');
  const statusLine = $('status');
  const result = $('result');
  const sceneList = $('scenes');
  const recent = $('recent');
  const recentList = $('recent-list');

  let current = null;   // the job being followed; older jobs' callbacks see they are stale
  let recentLoads = 0;  // only the newest list request may draw the list

  // localStorage can throw (storage disabled); the page then works without a session.
  function getSession() {
    try { return window.localStorage.getItem(SESSION_KEY) || null; } catch (e) { return null; }
  }
  function setSession(sid) {
    if (typeof sid !== 'string' || sid === '') return;
    try { window.localStorage.setItem(SESSION_KEY, sid); } catch (e) { /* no storage */ }
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function kind() {
    const checked = form.querySelector('input[name="kind"]:checked');
    return checked && KINDS[checked.value] ? checked.value : 'problem';
  }

  function applyKind() {
    const k = kind();
    const info = KINDS[k];
    textLabel.textContent = info.label;
    hint.textContent = info.hint;
    textarea.placeholder = info.placeholder;
    textarea.spellcheck = k === 'problem';
    textarea.classList.toggle('code', k === 'code');
  }

  // --- errors ---------------------------------------------------------------

  function showError(message) {
    errorBox.textContent = message;
    errorBox.focus();
  }
  function clearError() { errorBox.textContent = ''; }

  function retryAfterSeconds(res) {
    const raw = (res.headers.get('Retry-After') || '').trim();
    if (/^\d+$/.test(raw)) return parseInt(raw, 10);
    const at = Date.parse(raw);
    return Number.isNaN(at) ? null : Math.max(1, Math.ceil((at - Date.now()) / 1000));
  }

  const FALLBACK_ERRORS = {
    400: 'The server could not accept this. Check the text and try again.',
    413: 'That is too long: a problem can have at most 5,000 characters and code at most 50 KB.',
    429: 'Too many videos were asked for just now.',
    503: 'The service is busy right now.',
  };

  function errorMessage(res, data) {
    const err = data && data.error;
    let message = err && typeof err.message === 'string' && err.message.trim() !== ''
      ? err.message.trim()
      : (FALLBACK_ERRORS[res.status] || 'The server answered with an error (HTTP ' + res.status + '). Please try again.');
    if (res.status === 429 || res.status === 503) {
      const wait = retryAfterSeconds(res);
      if (!/[.!?]$/.test(message)) message += '.';
      message += wait === null ? ' Please try again later.'
        : ' Try again in ' + wait + (wait === 1 ? ' second.' : ' seconds.');
    }
    return message;
  }

  async function readJSON(res) {
    try { return await res.json(); } catch (e) { return null; }
  }

  // --- submitting -----------------------------------------------------------

  function setBusy(busy) {
    submit.disabled = busy;
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (submit.disabled) return;
    clearError();
    const info = KINDS[kind()];
    const body = {};
    body[info.field] = textarea.value;
    const sid = getSession();
    if (sid) body.session_id = sid;
    body.options = { quality: quality.value };

    setBusy(true);
    let res;
    try {
      res = await fetch(info.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'same-origin',
      });
    } catch (e) {
      setBusy(false);
      showError('The server could not be reached. Check your connection and try again.');
      return;
    }
    const data = await readJSON(res);
    setBusy(false);
    if (!res.ok || !data || typeof data.job_id !== 'string') {
      showError(res.ok ? 'The server sent an answer this page does not understand. Please try again.'
        : errorMessage(res, data));
      return;
    }
    // Disabling the focused button drops focus to the body: give it back.
    if (!document.activeElement || document.activeElement === document.body) submit.focus();
    const session = typeof data.session_id === 'string' && data.session_id ? data.session_id : sid;
    setSession(session);
    follow(data.job_id, session, data);
  }

  // --- following a job ------------------------------------------------------

  function jobPath(job) {
    return '/api/v1/jobs/' + encodeURIComponent(job.id);
  }
  function sessionQuery(job) {
    return job.sid ? '?session_id=' + encodeURIComponent(job.sid) : '';
  }

  function stop(job) {
    if (!job) return;
    job.done = true;
    if (job.source) { job.source.close(); job.source = null; }
    if (job.timer) { clearTimeout(job.timer); job.timer = null; }
  }

  function follow(id, sid, first) {
    stop(current);
    const job = { id: id, sid: sid, done: false, source: null, timer: null, misses: 0, words: '', progress: 0 };
    current = job;
    result.hidden = true;
    result.textContent = '';
    bar.value = 0;
    bar.textContent = '0%';
    sceneList.textContent = '';
    sceneList.hidden = true;
    panel.hidden = false;
    panel.scrollIntoView({ block: 'nearest' });
    // The live region stays in the page; it only changes text, so it is announced.
    if (update(job, { status: first.status || 'queued', progress: first.progress })) { finish(job); return; }
    if (typeof window.EventSource !== 'function') { poll(job); return; }

    const source = new EventSource(jobPath(job) + '/events' + sessionQuery(job));
    job.source = source;
    source.addEventListener('status', (event) => {
      if (job !== current || job.done) return;
      let d;
      try { d = JSON.parse(event.data); } catch (e) { return; }
      if (d && d.job_id && d.job_id !== job.id) return;
      if (update(job, d)) finish(job);
    });
    // EventSource would reconnect by itself; polling is the simpler, surer path.
    source.addEventListener('error', () => {
      if (job !== current || job.done) return;
      source.close();
      job.source = null;
      poll(job);
    });
  }

  function poll(job) {
    if (job !== current || job.done) return;
    fetch(jobPath(job) + sessionQuery(job), { headers: { 'Accept': 'application/json' }, credentials: 'same-origin' })
      .then(async (res) => {
        if (job !== current || job.done) return;
        const data = await readJSON(res);
        if (res.ok && data) {
          job.misses = 0;
          if (update(job, data)) finish(job); else again(job, POLL_MS);
        } else if (res.status === 429 || res.status >= 500) {
          const wait = retryAfterSeconds(res);
          again(job, Math.max(POLL_MS, (wait || 0) * 1000));
        } else {
          const err = data && data.error && data.error.message;
          fail(job, 'failed', err || 'The server no longer knows this job (HTTP ' + res.status + ').');
          finish(job);
        }
      })
      .catch(() => {
        if (job !== current || job.done) return;
        job.misses += 1;
        if (job.misses === 3) setStatus(job.words + '. The server is not answering; still trying.');
        again(job, POLL_MS);
      });
  }

  function again(job, ms) {
    if (job !== current || job.done) return;
    job.timer = setTimeout(() => { job.timer = null; poll(job); }, ms);
  }

  function finish(job) {
    stop(job);
    loadRecent();
  }

  function setStatus(text) {
    if (statusLine.textContent !== text) statusLine.textContent = text;
  }

  function setProgress(job, value) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    job.progress = Math.max(0, Math.min(100, Math.round(value)));
    bar.value = job.progress;
    bar.textContent = job.progress + '%';
  }

  // A lesson's scenes, one item each, redrawn from each report (text only, never markup).
  function showScenes(d) {
    if (!Array.isArray(d.scenes) || d.scenes.length === 0) return;
    sceneList.textContent = '';
    for (const s of d.scenes) {
      if (!s || typeof s !== 'object') continue;
      const state = typeof s.status === 'string' ? s.status : 'queued';
      const title = typeof s.title === 'string' && s.title ? s.title : 'Scene';
      const words = s.slate ? 'could not be drawn; a slate with its title and step stands in' : (SCENE_WORDS[state] || state);
      const item = el('li', SCENE_WORDS[state] ? state : '', title + ': ' + words);
      sceneList.appendChild(item);
    }
    sceneList.hidden = sceneList.childElementCount === 0;
  }

  // Shows one status report; true when the job has reached its end for this page.
  function update(job, d) {
    if (!d || typeof d.status !== 'string') return false;
    const known = STATUSES[d.status];
    const ended = d.status === 'ready' || d.status === 'delivered' || d.status === 'failed' || d.status === 'expired';
    const staged = !ended && typeof d.stage === 'string' && Object.prototype.hasOwnProperty.call(STAGES, d.stage) ? STAGES[d.stage] : null;
    const words = staged || (known ? known.words : d.status);
    showScenes(d);
    job.words = words;
    setProgress(job, typeof d.progress === 'number' ? d.progress : (known ? known.progress : null));

    if (d.status === 'ready' || d.status === 'delivered') {
      if (d.link) {
        const href = safeLink(d.link);
        if (!href) { fail(job, 'failed', 'The server sent a link this page cannot open.'); return true; }
        showReady(href, d);
        setStatus(words + ': your video is ready to watch.' + (d.degraded
          ? ' A scene could not be drawn, so a slate with its title and step stands in for it.' : ''));
        return true;
      }
      if (d.status === 'delivered') {
        setStatus(words + ': the video was already watched, so its link is used up.');
        return true;
      }
      setStatus(words + ' (' + job.progress + '%)');
      return false;
    }
    if (d.status === 'failed' || d.status === 'expired') {
      const err = d.error && typeof d.error.message === 'string' && d.error.message ? d.error.message
        : (typeof d.message === 'string' && d.message ? d.message : '');
      fail(job, d.status, err);
      return true;
    }
    setStatus(words + ' (' + job.progress + '%)');
    return false;
  }

  function safeLink(link) {
    try {
      const url = new URL(String(link), window.location.href);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch (e) { return null; }
  }

  function formatTime(iso) {
    const at = new Date(String(iso));
    if (Number.isNaN(at.getTime())) return null;
    try {
      return at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    } catch (e) {
      return at.toLocaleString();
    }
  }

  function showReady(href, d) {
    result.textContent = '';
    const actions = el('p', 'actions');
    const a = el('a', 'button', 'Watch your video');
    a.href = href;
    actions.append(a);
    result.append(actions);
    if (d.answer !== undefined && d.answer !== null && String(d.answer) !== '') {
      const answer = el('p', 'answer');
      answer.append(el('strong', '', 'Answer: '), document.createTextNode(String(d.answer)));
      result.append(answer);
    }
    const note = el('p', 'note',
      'This link works once: the video is deleted from the server after it has been watched.');
    const when = d.expires_at ? formatTime(d.expires_at) : null;
    if (when) {
      const time = el('time', '', when);
      time.dateTime = String(d.expires_at);
      note.append(' If it is not watched, it is deleted when the link expires on ', time, '.');
    }
    result.append(note);
    result.hidden = false;
  }

  function fail(job, status, message) {
    const known = STATUSES[status] || STATUSES.failed;
    const text = message || (status === 'expired'
      ? 'The job waited too long and expired.'
      : 'Something went wrong while making the video.');
    result.textContent = '';
    const box = el('p', 'failure');
    box.append(el('strong', '', known.words + ': '), document.createTextNode(text));
    result.append(box, el('p', 'note', 'Try again: send it once more with "Make the video", or change the text first.'));
    result.hidden = false;
    setStatus(known.words + ': ' + text);
  }

  // --- recent videos --------------------------------------------------------

  function truncate(text, n) {
    const chars = Array.from(String(text).replace(/\s+/g, ' ').trim());
    return chars.length > n ? chars.slice(0, n - 1).join('') + '\u2026' : chars.join('');
  }

  async function loadRecent() {
    const sid = getSession();
    const mine = ++recentLoads;
    if (!sid) { recent.hidden = true; return; }
    let data = null;
    try {
      const res = await fetch('/api/v1/jobs?session_id=' + encodeURIComponent(sid),
        { headers: { 'Accept': 'application/json' }, credentials: 'same-origin' });
      data = res.ok ? await readJSON(res) : { jobs: [] };
    } catch (e) {
      return;  // keep what is shown; the next finished job loads it again
    }
    if (mine !== recentLoads) return;
    const jobs = data && Array.isArray(data.jobs) ? data.jobs.slice(0, 10) : [];
    recentList.textContent = '';
    for (const j of jobs) {
      if (!j || typeof j !== 'object') continue;
      const known = STATUSES[j.status];
      const li = el('li');
      li.append(el('strong', '', known ? known.words : String(j.status || 'Unknown')), document.createTextNode(': '));
      const what = typeof j.problem === 'string' && j.problem.trim() !== '' ? truncate(j.problem, 80) : 'Manim code';
      li.append(document.createTextNode(what));
      const when = j.created_at ? formatTime(j.created_at) : null;
      if (when) {
        const time = el('time', '', when);
        time.dateTime = String(j.created_at);
        const span = el('span', 'note');
        span.append('(', time, ')');
        li.append(' ', span);
      }
      recentList.append(li);
    }
    recent.hidden = recentList.children.length === 0;
  }

  // --- start ----------------------------------------------------------------

  form.addEventListener('submit', onSubmit);
  for (const radio of form.querySelectorAll('input[name="kind"]')) radio.addEventListener('change', applyKind);
  applyKind();
  loadRecent();
})();

