// Herald console: subscribe and publish through the Mercure protocol, nothing else.
(() => {
  'use strict';
  const hub = new URL('/.well-known/mercure', location.origin).href;
  const $ = (id) => document.getElementById(id);
  const states = ['connecting', 'open', 'closed'];
  const maxEvents = 500;

  let es = null;
  let opens = 0;
  let count = 0;
  let paused = false;
  let held = [];
  let selectors = [];

  $('hub-url').textContent = hub;
  const params = new URLSearchParams(location.search);
  if (params.has('topic')) $('sub-topics').value = params.getAll('topic').join('\n');
  for (const kind of ['match', 'match_urlpattern']) {
    if (params.has(kind)) {
      $('sub-kind').value = kind;
      $('sub-topics').value = params.getAll(kind).join('\n');
    }
  }
  // The kind of the running subscription: 'topic' speaks Mercure 0.x, the others 1.0.
  let kind = 'topic';
  const isV1 = () => kind !== 'topic';

  const lines = (text) => text.split('\n').map((s) => s.trim()).filter((s) => s !== '');
  const shellQuote = (s) => "'" + String(s).replace(/'/g, "'\\''") + "'";

  // Wide screens show every panel; on a phone the optional ones start folded, so that the
  // events are near the top.
  const wide = window.matchMedia('(min-width: 701px)').matches;
  for (const d of document.querySelectorAll('details[data-open-wide]')) d.open = wide;

  function setState() {
    const state = es ? states[es.readyState] : 'closed';
    $('state').textContent = state;
    $('state').dataset.state = state;
    // A source the browser gave up on is as good as none: Connect works again at once.
    const live = es !== null && es.readyState !== EventSource.CLOSED;
    $('connect').disabled = live;
    $('disconnect').disabled = !live;
  }

  // describe puts a refusal in words: the status, and the hub's reason without the words
  // of the status it repeats ("401 Unauthorized: no token", not "… Unauthorized:
  // unauthorized: no token").
  function describe(status, statusText, text) {
    let reason = text.trim();
    const said = statusText.toLowerCase();
    if (said && reason.toLowerCase().startsWith(said)) reason = reason.slice(said.length).replace(/^[\s:.-]+/, '');
    const head = (status + ' ' + statusText).trim();
    return reason ? head + ': ' + reason : head;
  }

  // An EventSource tells the page nothing about a refusal: ask the hub the same question
  // once more with fetch, to show its status and reason.
  async function explainRefusal(url) {
    const ctl = new AbortController();
    try {
      const resp = await fetch(url, { headers: { Accept: 'text/event-stream' }, signal: ctl.signal, cache: 'no-store' });
      if (resp.ok) { ctl.abort(); return 'The stream ended; the hub accepts it again now: press Connect.'; }
      const text = (await resp.text()).split('\n')[0].slice(0, 300);
      return 'Refused: ' + describe(resp.status, resp.statusText, text);
    } catch (err) {
      return 'The hub did not answer: ' + err.message;
    }
  }

  function subscribeURL(withToken) {
    const url = new URL(hub);
    for (const s of selectors) url.searchParams.append(kind, s);
    const last = $('sub-last-id').value.trim();
    if (last) url.searchParams.set(isV1() ? 'last_event_id' : 'lastEventID', last);
    const token = $('sub-token').value.trim();
    // A 1.0 hub never reads a token from the URL: in a browser it comes in the cookie.
    if (withToken && token && !isV1()) url.searchParams.set('authorization', token);
    return url;
  }

  function connect(event) {
    event.preventDefault();
    selectors = lines($('sub-topics').value);
    if (selectors.length === 0) return;
    if (es) es.close();
    kind = $('sub-kind').value;
    $('generation').textContent = isV1() ? 'Mercure 1.0 (' + kind + ')' : 'Mercure 0.x (topic)';
    // 1.0 subscription events come with the event type "mercure".
    if (isV1()) learnType('mercure');
    opens = 0;
    $('reconnects').textContent = '0';
    $('sub-result').textContent = '';
    $('sub-result').className = '';
    const url = subscribeURL(true);
    const source = new EventSource(url);
    es = source;
    source.onopen = () => {
      opens++;
      $('reconnects').textContent = String(Math.max(0, opens - 1));
      $('sub-result').textContent = '';
      setState();
    };
    source.onerror = async () => {
      setState();
      if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects
      const why = await explainRefusal(url);
      if (es !== source) return; // connected again meanwhile
      $('sub-result').className = 'error';
      $('sub-result').textContent = why;
    };
    es.onmessage = (e) => received(e);
    for (const t of $('sub-types').value.split(/[\s,]+/)) learnType(t);
    watchTypes(es);
    setState();
    showSubscribeCommands();
  }

  // EventSource delivers a named event only to listeners of that name, and nothing tells
  // the page which names will come: it listens for the names typed in the subscribe form
  // and for every type published from this page.
  const knownTypes = new Set();
  function watchTypes(source) {
    for (const t of knownTypes) source.addEventListener(t, received);
  }
  function learnType(t) {
    if (!t || t === 'message' || knownTypes.has(t)) return;
    knownTypes.add(t);
    if (es) es.addEventListener(t, received);
  }

  function disconnect() {
    if (es) es.close();
    es = null;
    setState();
  }

  function received(e) {
    count++;
    $('count').textContent = String(count);
    $('last-id').textContent = e.lastEventId || '–';
    $('last-id').title = e.lastEventId || '';
    const item = { time: new Date(), type: e.type, id: e.lastEventId, data: e.data };
    if (paused) {
      held.push(item);
      $('paused-note').textContent = held.length + ' held while paused';
      return;
    }
    render(item);
  }

  function pretty(data) {
    const t = data.trim();
    if (t.startsWith('{') || t.startsWith('[')) {
      try { return JSON.stringify(JSON.parse(t), null, 2); } catch (_) { /* not JSON */ }
    }
    return data;
  }

  function render(item) {
    const li = document.createElement('li');
    li.className = 'event';
    const meta = document.createElement('div');
    meta.className = 'meta';
    const add = (cls, text) => {
      const span = document.createElement('span');
      span.className = cls;
      span.textContent = text;
      meta.appendChild(span);
    };
    add('time', item.time.toLocaleTimeString());
    add('type', item.type);
    add('id', 'id ' + (item.id || '–'));
    add('topics', 'selectors ' + selectors.join(' '));
    const pre = document.createElement('pre');
    pre.className = 'data';
    pre.textContent = pretty(item.data);
    li.append(meta, pre);
    li.dataset.search = (item.type + ' ' + item.id + ' ' + item.data).toLowerCase();
    applyFilter(li);
    const list = $('event-list');
    list.prepend(li);
    $('no-events').hidden = true;
    while (list.children.length > maxEvents) list.lastElementChild.remove();
  }

  function applyFilter(li) {
    const q = $('filter').value.trim().toLowerCase();
    li.hidden = q !== '' && !li.dataset.search.includes(q);
  }

  function togglePause() {
    paused = !paused;
    $('pause').setAttribute('aria-pressed', String(paused));
    $('pause').textContent = paused ? 'Resume' : 'Pause';
    if (!paused) {
      for (const item of held) render(item);
      held = [];
      $('paused-note').hidden = true;
    } else {
      $('paused-note').hidden = false;
      $('paused-note').textContent = '0 held while paused';
    }
  }

  // showCommand writes a command into a pre, one span per word, so that lines break
  // between words only (a word longer than a line, a token, breaks anywhere).
  function showCommand(id, words) {
    const pre = $(id);
    pre.replaceChildren();
    words.forEach((word, i) => {
      if (i > 0) pre.append(' ');
      const span = document.createElement('span');
      span.className = word.length > 40 ? 'w long' : 'w';
      span.textContent = word;
      pre.append(span);
    });
  }

  function showSubscribeCommands() {
    const token = $('sub-token').value.trim();
    const curl = ['curl', '-N', shellQuote(subscribeURL(false).href)];
    const herald = ['herald', 'listen', shellQuote(subscribeURL(false).href)];
    if (token) {
      curl.push('-H', shellQuote('Authorization: Bearer ' + token));
      herald.push('-H', shellQuote('Authorization: Bearer ' + token));
    }
    showCommand('curl-command', curl);
    showCommand('herald-command', herald);
  }

  // copy puts the text of the element the button names (an input's value, or a command)
  // on the clipboard, with the old execCommand where the Clipboard API is not offered (a
  // hub reached over plain HTTP by a name other than localhost).
  async function copy(button) {
    const el = $(button.dataset.copy);
    const text = 'value' in el ? el.value : el.textContent;
    let done = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        done = true;
      }
    } catch (_) { /* fall back below */ }
    if (!done) {
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.append(area);
      area.select();
      try { done = document.execCommand('copy'); } catch (_) { done = false; }
      area.remove();
    }
    button.textContent = done ? 'Copied' : 'Copy failed';
    setTimeout(() => { button.textContent = 'Copy'; }, 1500);
  }

  async function publish(event) {
    event.preventDefault();
    const topics = lines($('pub-topics').value);
    const form = new URLSearchParams();
    for (const t of topics) form.append('topic', t);
    form.set('data', $('pub-data').value);
    const fields = { type: $('pub-type').value.trim(), id: $('pub-id').value.trim(), retry: $('pub-retry').value.trim() };
    for (const [k, v] of Object.entries(fields)) if (v !== '') form.set(k, v);
    const priv = $('pub-private').checked;
    if (priv) form.set('private', 'on');
    const token = $('pub-token').value.trim();
    learnType(fields.type);
    showPublishCommands(topics, fields, priv, token);
    const result = $('publish-result');
    result.className = '';
    result.textContent = 'Publishing…';
    try {
      const resp = await fetch(hub, {
        method: 'POST',
        headers: { 'Authorization': 'Bearer ' + token, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form,
      });
      const text = (await resp.text()).trim();
      if (resp.ok) {
        result.className = 'ok';
        result.textContent = 'Published: ' + text;
      } else {
        result.className = 'error';
        result.textContent = describe(resp.status, resp.statusText, text);
      }
    } catch (err) {
      result.className = 'error';
      result.textContent = 'The hub did not answer: ' + err.message;
    }
  }

  function showPublishCommands(topics, fields, priv, token) {
    const tok = token ? shellQuote('Authorization: Bearer ' + token) : '"Authorization: Bearer $TOKEN"';
    const curl = ['curl'];
    for (const t of topics) curl.push('-d', shellQuote('topic=' + encodeURIComponent(t)));
    curl.push('--data-urlencode', shellQuote('data=' + $('pub-data').value));
    const herald = ['herald', 'publish', '--hub', shellQuote(hub), '--token', token ? shellQuote(token) : '"$TOKEN"'];
    for (const t of topics) herald.push('--topic', shellQuote(t));
    herald.push('--data', shellQuote($('pub-data').value));
    for (const [k, v] of Object.entries(fields)) {
      if (v === '') continue;
      curl.push('-d', shellQuote(k + '=' + encodeURIComponent(v)));
      herald.push('--' + k, shellQuote(v));
    }
    if (priv) { curl.push('-d', 'private=on'); herald.push('--private'); }
    curl.push('-H', tok, shellQuote(hub));
    showCommand('curl-command', curl);
    showCommand('herald-command', herald);
  }

  $('subscribe-form').addEventListener('submit', connect);
  $('disconnect').addEventListener('click', disconnect);
  $('publish-form').addEventListener('submit', publish);
  $('pause').addEventListener('click', togglePause);
  $('clear').addEventListener('click', () => { $('event-list').replaceChildren(); count = 0; $('count').textContent = '0'; $('no-events').hidden = false; });
  for (const b of document.querySelectorAll('button.copy')) b.addEventListener('click', () => copy(b));
  $('filter').addEventListener('input', () => {
    for (const li of $('event-list').children) applyFilter(li);
  });
  setInterval(setState, 500);
  setState();
})();
