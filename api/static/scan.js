/* 武创荟 door-staff scanner: sign in with a checker token, pick the event, scan (camera or a
 * keyboard-wedge scanner), see a full-screen green / amber / red answer.
 *
 * Offline: the ticket's Ed25519 signature is checked here with the cached public key, the ticket is
 * judged against the cached check-in list, and the scan is queued in IndexedDB with its scan_id and
 * scan time; the queue is replayed in order once the network is back (the server answers a repeated
 * scan_id with the stored answer, so a replay never counts anyone twice).
 *
 * Plain JS, no build step; the only library is jsQR (vendor/jsQR.js, pinned, with its licence).
 */
(() => {
  'use strict';

  const API = document.body.dataset.api || '';
  const KEY = {
    token: 'wuchuang.scan.token',
    event: 'wuchuang.scan.event',
    lang: 'wuchuang.scan.lang',
    gate: 'wuchuang.scan.gate',
    device: 'wuchuang.scan.device',
    camera: 'wuchuang.scan.camera',
    pubkey: 'wuchuang.scan.pubkey',
    list: (id) => `wuchuang.scan.list.${id}`,
    stats: (id) => `wuchuang.scan.stats.${id}`,
    admitted: (id) => `wuchuang.scan.admitted.${id}`,
    queue: 'wuchuang.scan.queue', // fallback when IndexedDB is unavailable
  };
  const SCAN_TIMEOUT_MS = 4000; // a hanging network counts as offline: judge locally, queue
  const STATS_EVERY_MS = 5000;
  const OFFLINE_DATA_EVERY_MS = 60000;
  const REPLAY_EVERY_MS = 10000;
  const SAME_CODE_QUIET_MS = 3000; // the camera sees one ticket many times; scan it once
  const SHOW_MS = { ok: 1500, warn: 3500, bad: 4000 };

  const GREEN = new Set(['ok']);
  const AMBER = new Set(['already_checked_in', 'not_open_yet', 'closed', 'unverified']);
  // Everything else (wrong_event, cancelled, revoked, invalid, errors) is red.

  // ---------------------------------------------------------------- strings (zh-CN, en)
  const STRINGS = {
    zh: {
      app_title: '武创荟 · 检票',
      online: '在线',
      offline: '离线',
      sign_out: '退出',
      sign_out_confirm: '还有 {n} 条离线扫码尚未上传。确定退出吗？（记录会保留，重新登录后自动上传）',
      signin_heading: '检票员登录',
      token_label: '检票令牌',
      token_hint: '由组织者用 wuchuang token create --role checker 生成。',
      sign_in: '登录',
      events_heading: '选择活动',
      events_empty: '目前没有可检票的活动。',
      checked_in_label: '已签到 / 已确认',
      queue_label: '待上传',
      wedge_label: '扫码枪输入（保持焦点）',
      wedge_hint: '扫码枪扫码后自动回车提交；也可手动输入票码后按回车。',
      camera_start: '打开相机扫码',
      camera_stop: '关闭相机',
      settings: '设置',
      gate_label: '入口名称（可选）',
      change_event: '切换活动',
      device_label: '设备',
      insecure: '此页面未通过 HTTPS 打开：相机和离线验票不可用。',
      offline_badge: '离线核验 · 待上传',
      offline_not_queued: '离线 · 未记录',
      err_token: '令牌无效或已被撤销，请重新登录。',
      err_role: '该令牌不能用于检票（需要检票员或组织者令牌）。',
      err_network: '无法连接服务器，请检查网络。',
      err_server: '服务器错误（{status}）。',
      err_scope: '该令牌无权操作此活动。',
      camera_denied: '相机权限被拒绝。请在浏览器的网站设置中允许本页面使用相机，或改用扫码枪。',
      camera_absent: '没有找到可用的相机。请连接相机，或改用扫码枪。',
      camera_busy: '相机正被其他应用占用，请关闭其他应用后重试。',
      camera_unsupported: '此浏览器不支持相机，或页面未通过 HTTPS 打开。请改用扫码枪。',
      camera_failed: '无法打开相机：{error}',
      t_ok: '签到成功',
      t_already_checked_in: '已签到过',
      t_not_open_yet: '尚未开始签到',
      t_closed: '签到已结束',
      t_wrong_event: '非本场活动',
      t_cancelled: '报名已取消',
      t_revoked: '门票已作废',
      t_invalid: '无效门票',
      t_unverified: '请人工核对',
      t_error: '出错了',
      r_ok: '欢迎，{name}！',
      credit: '+{hours} 学时',
      r_already_checked_in: '已于 {time} 签到。',
      r_already_checked_in_list: '此票已签到过。',
      r_wrong_event: '这张门票属于另一场活动（#{event}）。',
      r_cancelled: '该报名已取消。',
      r_event_cancelled: '该活动已取消。',
      r_revoked: '这张门票已被新票替换，请出示最新门票。',
      r_invalid: '这不是有效的门票。',
      r_not_open_yet: '签到将于 {time} 开始。',
      r_closed: '签到已于 {time} 结束。',
      r_not_listed: '离线名单里没有这张票的最新信息：请人工核对，网络恢复后再扫一次。',
      r_no_key: '尚未缓存验票公钥，无法离线验票。',
      r_no_crypto: '此浏览器不支持 Ed25519 验签，无法离线验票。',
    },
    en: {
      app_title: 'Wuchuang · Door',
      online: 'Online',
      offline: 'Offline',
      sign_out: 'Sign out',
      sign_out_confirm: '{n} offline scans are not uploaded yet. Sign out anyway? (They are kept and uploaded after the next sign-in.)',
      signin_heading: 'Door staff sign-in',
      token_label: 'Checker token',
      token_hint: 'An organizer makes one with wuchuang token create --role checker.',
      sign_in: 'Sign in',
      events_heading: 'Pick the event',
      events_empty: 'No event to scan right now.',
      checked_in_label: 'Checked in / confirmed',
      queue_label: 'Queued',
      wedge_label: 'Scanner input (keep focused)',
      wedge_hint: 'A scanner submits with Enter by itself; you can also type a code and press Enter.',
      camera_start: 'Scan with the camera',
      camera_stop: 'Stop the camera',
      settings: 'Settings',
      gate_label: 'Gate name (optional)',
      change_event: 'Change event',
      device_label: 'Device',
      insecure: 'This page is not served over HTTPS: the camera and offline verification are unavailable.',
      offline_badge: 'Verified offline · queued',
      offline_not_queued: 'Offline · not recorded',
      err_token: 'This token is not valid or was revoked; sign in again.',
      err_role: 'This token cannot scan tickets (a checker or organizer token is needed).',
      err_network: 'Cannot reach the server; check the network.',
      err_server: 'Server error ({status}).',
      err_scope: 'This token may not act on this event.',
      camera_denied: 'Camera access was refused. Allow the camera for this page in the browser\'s site settings, or use a scanner.',
      camera_absent: 'No camera was found. Connect one, or use a scanner.',
      camera_busy: 'The camera is in use by another app; close it and try again.',
      camera_unsupported: 'This browser cannot use a camera here, or the page is not served over HTTPS. Use a scanner.',
      camera_failed: 'Could not start the camera: {error}',
      t_ok: 'Checked in',
      t_already_checked_in: 'Already checked in',
      t_not_open_yet: 'Check-in not open yet',
      t_closed: 'Check-in closed',
      t_wrong_event: 'Wrong event',
      t_cancelled: 'Cancelled',
      t_revoked: 'Ticket replaced',
      t_invalid: 'Invalid ticket',
      t_unverified: 'Check by hand',
      t_error: 'Error',
      r_ok: 'Welcome, {name}.',
      credit: '+{hours} credit hours',
      r_already_checked_in: 'Already checked in at {time}.',
      r_already_checked_in_list: 'This ticket was already checked in.',
      r_wrong_event: 'This ticket is for another event (#{event}).',
      r_cancelled: 'This registration was cancelled.',
      r_event_cancelled: 'This event was cancelled.',
      r_revoked: 'This ticket was replaced by a newer one; ask for the current ticket.',
      r_invalid: 'This is not a valid ticket.',
      r_not_open_yet: 'Check-in opens at {time}.',
      r_closed: 'Check-in closed at {time}.',
      r_not_listed: 'The offline list does not know this ticket yet: check by hand and scan again once online.',
      r_no_key: 'No verification key cached yet; cannot verify offline.',
      r_no_crypto: 'This browser cannot verify Ed25519 signatures; cannot verify offline.',
    },
  };

  // ---------------------------------------------------------------- small helpers
  const $ = (id) => document.getElementById(id);
  const el = {
    net: $('net'), langToggle: $('lang-toggle'), signOut: $('sign-out'), eventTitle: $('event-title'),
    viewSignin: $('view-signin'), viewEvents: $('view-events'), viewScan: $('view-scan'),
    signinForm: $('signin-form'), tokenInput: $('token-input'), signinError: $('signin-error'),
    eventList: $('event-list'), eventsEmpty: $('events-empty'), eventsError: $('events-error'),
    countIn: $('count-in'), countConfirmed: $('count-confirmed'), queueCount: $('queue-count'), queueBox: $('queue-box'),
    scanInput: $('scan-input'), cameraToggle: $('camera-toggle'), cameraMessage: $('camera-message'),
    cameraBox: $('camera-box'), video: $('camera-video'), gateInput: $('gate-input'), changeEvent: $('change-event'),
    deviceId: $('device-id'), secureWarning: $('secure-warning'),
    result: $('result'), resultIcon: $('result-icon'), resultTitle: $('result-title'), resultName: $('result-name'),
    resultOrg: $('result-org'), resultReason: $('result-reason'), resultOffline: $('result-offline'),
  };

  const store = {
    get(key, fallback = null) {
      try {
        const raw = localStorage.getItem(key);
        return raw === null ? fallback : JSON.parse(raw);
      } catch (_) {
        return fallback;
      }
    },
    set(key, value) {
      try {
        localStorage.setItem(key, JSON.stringify(value));
      } catch (err) {
        console.warn('localStorage is full or unavailable', err);
      }
    },
    remove(key) {
      try { localStorage.removeItem(key); } catch (_) { /* ignore */ }
    },
  };

  function uuid() {
    if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function format(template, params) {
    return template.replace(/\{(\w+)\}/g, (_, k) => (params && params[k] !== undefined ? String(params[k]) : ''));
  }

  // ---------------------------------------------------------------- state
  const state = {
    lang: initialLang(),
    token: store.get(KEY.token),
    event: store.get(KEY.event), // {id, title}
    view: null,
    reachable: true,
    stats: null,
    queueLength: 0,
    pendingOk: 0, // queued offline admissions for this event, not yet counted by the server
    cameraOn: false,
    scans: 0,
  };
  // What the tests (and a curious operator) can read: scan→result-on-screen times.
  window.__scan = { count: 0, timings: [], last: null, decoder: null };
  window.__lastScanMs = null;

  function initialLang() {
    const chosen = store.get(KEY.lang);
    if (chosen === 'zh' || chosen === 'en') return chosen;
    const nav = (navigator.language || '').toLowerCase();
    return nav.startsWith('en') ? 'en' : 'zh';
  }

  function t(key, params) {
    const table = STRINGS[state.lang] || STRINGS.zh;
    return format(table[key] !== undefined ? table[key] : (STRINGS.zh[key] || key), params);
  }

  function applyLang() {
    document.documentElement.lang = state.lang === 'en' ? 'en' : 'zh-CN';
    document.title = t('app_title');
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    el.langToggle.textContent = state.lang === 'en' ? '中文' : 'EN';
    el.cameraToggle.textContent = t(state.cameraOn ? 'camera_stop' : 'camera_start');
    renderNet();
    if (state.view === 'events') loadEvents();
  }

  // ---------------------------------------------------------------- HTTP
  class NetworkError extends Error {}

  async function api(path, { method = 'GET', body, timeout = 8000, token = state.token } = {}) {
    if (!navigator.onLine) throw new NetworkError('offline');
    const headers = { Accept: 'application/json', 'Accept-Language': state.lang === 'en' ? 'en' : 'zh-CN,zh;q=0.9' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    let response;
    try {
      response = await fetch(API + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal, cache: 'no-store', credentials: 'omit',
      });
    } catch (err) {
      setReachable(false);
      throw new NetworkError(err && err.message ? err.message : 'network error');
    } finally {
      clearTimeout(timer);
    }
    setReachable(response.status < 500);
    let data = null;
    try { data = await response.json(); } catch (_) { /* not JSON */ }
    return { status: response.status, data };
  }

  function setReachable(value) {
    if (state.reachable !== value) {
      state.reachable = value;
      renderNet();
    }
  }

  function isOnline() {
    return navigator.onLine && state.reachable;
  }

  function renderNet() {
    const online = isOnline();
    el.net.textContent = t(online ? 'online' : 'offline');
    el.net.className = `pill ${online ? 'pill-online' : 'pill-offline'}`;
  }

  function errorMessage(response) {
    if (response.status === 401) return t('err_token');
    if (response.status === 403) {
      const code = response.data && response.data.error && response.data.error.code;
      return code === 'event_out_of_scope' ? t('err_scope') : t('err_role');
    }
    const message = response.data && response.data.error && response.data.error.message;
    return message || t('err_server', { status: response.status });
  }

  // ---------------------------------------------------------------- the offline queue (IndexedDB)
  const queue = (() => {
    let dbPromise = null;
    function open() {
      if (!dbPromise) {
        dbPromise = new Promise((resolve, reject) => {
          if (!window.indexedDB) { reject(new Error('no IndexedDB')); return; }
          const request = indexedDB.open('wuchuang-scan', 1);
          request.onupgradeneeded = () => request.result.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true });
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        }).catch((err) => {
          console.warn('IndexedDB unavailable, queueing in localStorage', err);
          return null;
        });
      }
      return dbPromise;
    }
    function run(db, mode, fn) {
      return new Promise((resolve, reject) => {
        const tx = db.transaction('queue', mode);
        const result = fn(tx.objectStore('queue'));
        tx.oncomplete = () => resolve(result && 'result' in result ? result.result : undefined);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    }
    const fallback = {
      items: () => store.get(KEY.queue, []),
      save: (items) => store.set(KEY.queue, items),
    };
    return {
      async add(item) {
        const db = await open();
        if (!db) {
          const items = fallback.items();
          const seq = items.reduce((m, i) => Math.max(m, i.seq), 0) + 1;
          items.push({ ...item, seq });
          fallback.save(items);
          return;
        }
        await run(db, 'readwrite', (s) => s.add(item));
      },
      async all() {
        const db = await open();
        if (!db) return fallback.items();
        return run(db, 'readonly', (s) => s.getAll()); // key order = scan order
      },
      async remove(seq) {
        const db = await open();
        if (!db) { fallback.save(fallback.items().filter((i) => i.seq !== seq)); return; }
        await run(db, 'readwrite', (s) => s.delete(seq));
      },
    };
  })();

  async function refreshQueueCount() {
    const items = await queue.all();
    state.queueLength = items.length;
    state.pendingOk = state.event
      ? items.filter((i) => i.body.event_id === state.event.id && i.localResult === 'ok').length
      : 0;
    el.queueCount.textContent = String(items.length);
    el.queueBox.classList.toggle('has-queue', items.length > 0);
    renderCounter();
    return items.length;
  }

  let replaying = null;
  function replayQueue() {
    if (!replaying) replaying = doReplay().finally(() => { replaying = null; });
    return replaying;
  }

  async function doReplay() {
    if (!state.token || !navigator.onLine) return;
    const items = await queue.all();
    if (!items.length) return;
    let sent = 0;
    for (const item of items) {
      let response;
      try {
        response = await api('/api/v1/checkins', { method: 'POST', body: item.body, timeout: 8000 });
      } catch (err) {
        break; // still offline: keep the rest, in order, for the next attempt
      }
      if (response.status === 200) {
        await queue.remove(item.seq);
        sent += 1;
        continue;
      }
      if (response.status === 401 || response.status === 429 || response.status >= 500) break;
      // Any other refusal can never succeed: drop it rather than block the queue behind it.
      console.warn('queued scan refused by the server, dropped', item.body.scan_id, response.status, response.data);
      await queue.remove(item.seq);
    }
    await refreshQueueCount();
    if (sent) {
      refreshStats();
      refreshOfflineData();
    }
  }

  // ---------------------------------------------------------------- offline data: key + check-in list
  let verifyKey = null; // {keyId, key: CryptoKey} | {keyId, key: null, unsupported: true}

  async function refreshOfflineData() {
    if (!state.event || !state.token) return;
    const eventId = state.event.id;
    try {
      const list = await api(`/api/v1/events/${eventId}/checkin-list`);
      if (list.status !== 200) return;
      const cachedKey = store.get(KEY.pubkey);
      if (!cachedKey || cachedKey.key_id !== list.data.key_id) {
        const key = await api('/api/v1/tickets/public-key', { token: null });
        if (key.status === 200) {
          store.set(KEY.pubkey, { key_id: key.data.key_id, public_key: key.data.public_key });
          verifyKey = null;
        }
      }
      store.set(KEY.list(eventId), list.data);
    } catch (err) {
      if (!(err instanceof NetworkError)) console.error(err);
    }
  }

  function b64urlBytes(text) {
    const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  async function getVerifyKey() {
    const cached = store.get(KEY.pubkey);
    if (!cached) return null;
    if (verifyKey && verifyKey.keyId === cached.key_id) return verifyKey;
    try {
      const key = await crypto.subtle.importKey('raw', b64urlBytes(cached.public_key), { name: 'Ed25519' }, false, ['verify']);
      verifyKey = { keyId: cached.key_id, key };
    } catch (err) {
      console.warn('Ed25519 is not available in this browser', err);
      verifyKey = { keyId: cached.key_id, key: null };
    }
    return verifyKey;
  }

  const CONTEXT = new TextEncoder().encode('wuchuang-ticket-v1:');

  /** The claims of a genuine ticket code, or why it cannot be judged: mirrors TicketSigner.verify. */
  async function verifyCode(code) {
    if (!code.startsWith('WC1.') || code.length > 200) return { state: 'bad' };
    // Strictly the url-safe alphabet without padding, as the server decodes: atob alone would take
    // '+', '/', '=' and spaces too.
    const body = code.slice(4);
    if (!/^[A-Za-z0-9_-]+$/.test(body)) return { state: 'bad' };
    let raw;
    try { raw = b64urlBytes(body); } catch (_) { return { state: 'bad' }; }
    if (raw.length !== 11 + 64) return { state: 'bad' };
    if (!window.crypto || !crypto.subtle) return { state: 'nocrypto' };
    const key = await getVerifyKey();
    if (!key) return { state: 'nokey' };
    if (!key.key) return { state: 'nocrypto' };
    const payload = raw.slice(0, 11);
    const message = new Uint8Array(CONTEXT.length + payload.length);
    message.set(CONTEXT, 0);
    message.set(payload, CONTEXT.length);
    let genuine = false;
    try {
      genuine = await crypto.subtle.verify({ name: 'Ed25519' }, key.key, raw.slice(11), message);
    } catch (_) {
      genuine = false;
    }
    if (!genuine) return { state: 'bad' };
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    if (view.getUint8(0) !== 1) return { state: 'bad' };
    return { state: 'ok', registrationId: view.getUint32(1), eventId: view.getUint32(5), version: view.getUint16(9) };
  }

  function admittedMap(eventId) {
    return store.get(KEY.admitted(eventId), {});
  }

  function markAdmitted(eventId, registrationId, at) {
    const map = admittedMap(eventId);
    if (!map[registrationId]) {
      map[registrationId] = at;
      store.set(KEY.admitted(eventId), map);
    }
  }

  /** The event's UTC offset in minutes, read from the times the server wrote in its own zone. */
  function eventOffset(list) {
    const match = /([+-])(\d\d):(\d\d)$/.exec((list && (list.generated_at || list.event.checkin_opens_at)) || '');
    return match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : null;
  }

  /** "HH:MM" in the event's time zone (as the server words it), with the date when not today. */
  function clockTime(iso, offset) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    if (offset === null || offset === undefined) {
      return d.toLocaleTimeString(state.lang === 'en' ? 'en-GB' : 'zh-CN', { hour: '2-digit', minute: '2-digit' });
    }
    const local = new Date(d.getTime() + offset * 60000).toISOString();
    const today = new Date(Date.now() + offset * 60000).toISOString().slice(0, 10);
    return local.slice(0, 10) === today ? local.slice(11, 16) : `${local.slice(0, 10)} ${local.slice(11, 16)}`;
  }

  /** Whether a ticket for ticketEventId opens this door (a course session also takes the course's passes). */
  function acceptsEvent(list, eventId, ticketEventId) {
    if (ticketEventId === eventId) return true;
    return Boolean(list && Array.isArray(list.accepts_event_ids) && list.accepts_event_ids.includes(ticketEventId));
  }

  /** An offline answer: what the server would say, judged from the cached list. */
  async function judgeOffline(scan) {
    const claims = await verifyCode(scan.code);
    const outcome = { result: 'unverified', reason: '', registration: null, offline: true, queued: true };
    if (claims.state === 'nokey' || claims.state === 'nocrypto') {
      outcome.reason = t(claims.state === 'nokey' ? 'r_no_key' : 'r_no_crypto');
      outcome.queued = false;
    } else if (claims.state === 'bad') {
      Object.assign(outcome, { result: 'invalid', reason: t('r_invalid') });
    } else if (!acceptsEvent(store.get(KEY.list(scan.event_id)), scan.event_id, claims.eventId)) {
      Object.assign(outcome, { result: 'wrong_event', reason: t('r_wrong_event', { event: claims.eventId }) });
    } else {
      const list = store.get(KEY.list(scan.event_id));
      const entry = list && list.registrations.find((r) => r.id === claims.registrationId);
      if (entry) outcome.registration = { id: entry.id, name: entry.name, organization: entry.organization };
      const now = Date.now();
      const offset = eventOffset(list);
      if (!entry) {
        Object.assign(outcome, { reason: t('r_not_listed'), queued: false });
      } else if (entry.status === 'cancelled' || entry.status === 'rejected') {
        Object.assign(outcome, { result: 'cancelled', reason: t('r_cancelled') });
      } else if (list.event.status === 'cancelled') {
        Object.assign(outcome, { result: 'cancelled', reason: t('r_event_cancelled') });
      } else if (claims.version < entry.ticket_version) {
        Object.assign(outcome, { result: 'revoked', reason: t('r_revoked') });
      } else if (claims.version > entry.ticket_version || entry.status !== 'confirmed') {
        // The list predates this ticket (re-issued or confirmed since): the server may well say ok.
        Object.assign(outcome, { reason: t('r_not_listed'), queued: false });
      } else if (list.event.checkin_opens_at && now < Date.parse(list.event.checkin_opens_at)) {
        Object.assign(outcome, { result: 'not_open_yet', reason: t('r_not_open_yet', { time: clockTime(list.event.checkin_opens_at, offset) }) });
      } else if (list.event.checkin_closes_at && now > Date.parse(list.event.checkin_closes_at)) {
        Object.assign(outcome, { result: 'closed', reason: t('r_closed', { time: clockTime(list.event.checkin_closes_at, offset) }) });
      } else {
        const before = admittedMap(scan.event_id)[entry.id];
        if (before || entry.checked_in) {
          const reason = before ? t('r_already_checked_in', { time: clockTime(before, offset) }) : t('r_already_checked_in_list');
          Object.assign(outcome, { result: 'already_checked_in', reason });
        } else {
          Object.assign(outcome, { result: 'ok', reason: t('r_ok', { name: entry.name }) });
          markAdmitted(scan.event_id, entry.id, scan.scanned_at);
        }
      }
    }
    if (outcome.queued) {
      await queue.add({ body: { ...scanBody(scan), offline: true }, localResult: outcome.result, queuedAt: new Date().toISOString() });
      await refreshQueueCount();
    }
    return outcome;
  }

  // ---------------------------------------------------------------- scanning
  function scanBody(scan) {
    const body = { code: scan.code, event_id: scan.event_id, scan_id: scan.scan_id, scanned_at: scan.scanned_at, direction: 'entry', device: scan.device };
    if (scan.gate) body.gate = scan.gate;
    return body;
  }

  let chain = Promise.resolve();

  /** One scan from either input; scans are judged one after the other, in the order they came. */
  function submitScan(rawCode, source, startedAt = performance.now()) {
    const code = String(rawCode || '').trim();
    if (!code || !state.event) return chain;
    performance.mark('scan-start', { startTime: startedAt });
    const scan = {
      code, source,
      event_id: state.event.id,
      scan_id: uuid(),
      scanned_at: new Date().toISOString(),
      gate: (el.gateInput.value || '').trim().slice(0, 50) || null,
      device: store.get(KEY.device),
    };
    chain = chain.then(() => handleScan(scan, startedAt)).catch((err) => {
      console.error(err);
      showResult({ result: 'error', reason: String(err && err.message ? err.message : err) }, startedAt, scan);
    });
    return chain;
  }

  async function handleScan(scan, startedAt) {
    let outcome = null;
    if (navigator.onLine) {
      // Older (offline) scans first, so the server sees them in order; but never hold the door for long.
      if (state.queueLength > 0 && state.reachable) await Promise.race([replayQueue(), sleep(1000)]);
      try {
        const response = await api('/api/v1/checkins', { method: 'POST', body: scanBody(scan), timeout: SCAN_TIMEOUT_MS });
        if (response.status === 200) {
          outcome = { ...response.data, offline: false };
          if (outcome.result === 'ok' && outcome.registration) markAdmitted(scan.event_id, outcome.registration.id, scan.scanned_at);
        } else if (response.status < 500 && response.status !== 429) {
          outcome = { result: 'error', reason: errorMessage(response) };
          if (response.status === 401) setTimeout(() => { forgetSession(); showView('signin', t('err_token')); }, 1500);
        }
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
      }
    }
    if (!outcome) outcome = await judgeOffline(scan);
    showResult(outcome, startedAt, scan);
    if (!outcome.offline) scheduleStats();
  }

  // ---------------------------------------------------------------- the result screen + sound
  let hideTimer = null;

  function showResult(outcome, startedAt, scan) {
    const tone = GREEN.has(outcome.result) ? 'ok' : AMBER.has(outcome.result) ? 'warn' : 'bad';
    const registration = outcome.registration || null;
    el.result.className = `result ${tone}`;
    el.result.dataset.result = outcome.result;
    el.result.dataset.offline = outcome.offline ? 'true' : 'false';
    el.resultIcon.textContent = tone === 'ok' ? '✓' : tone === 'warn' ? '!' : '✕';
    el.resultTitle.textContent = t(`t_${outcome.result}`);
    el.resultName.textContent = registration ? registration.name : '';
    el.resultOrg.textContent = registration && registration.organization ? registration.organization : '';
    el.resultReason.textContent = [outcome.reason || '', outcome.credit_hours ? t('credit', { hours: outcome.credit_hours }) : '']
      .filter(Boolean)
      .join(' · ');
    el.resultOffline.hidden = !outcome.offline;
    el.resultOffline.textContent = t(outcome.queued ? 'offline_badge' : 'offline_not_queued');
    el.result.hidden = false;
    state.scans += 1;
    const seq = state.scans;
    el.result.dataset.seq = String(seq);
    beep(tone);
    if (tone !== 'ok' && navigator.vibrate) navigator.vibrate(tone === 'bad' ? [200, 100, 200] : 150);
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hideResult, SHOW_MS[tone]);
    // Two frames: the first callback runs before the paint that shows the result, the second after it.
    requestAnimationFrame(() => requestAnimationFrame(() => {
      const ms = performance.now() - startedAt;
      window.__lastScanMs = ms;
      const entry = { seq, ms: Math.round(ms * 10) / 10, result: outcome.result, offline: !!outcome.offline, source: scan ? scan.source : null };
      window.__scan.count = seq;
      window.__scan.last = entry;
      window.__scan.timings.push(entry);
      el.result.dataset.shownSeq = String(seq);
      try { performance.measure('scan-to-result', 'scan-start'); } catch (_) { /* mark missing */ }
    }));
  }

  function hideResult() {
    el.result.hidden = true;
    focusScanInput();
  }

  let audio = null;
  function unlockAudio() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) {
      try { audio = new Ctx(); } catch (_) { audio = null; }
    }
    if (audio && audio.state === 'suspended') audio.resume().catch(() => {});
  }

  const TONES = {
    ok: [{ f: 880, at: 0, d: 0.09, type: 'sine' }, { f: 1320, at: 0.11, d: 0.14, type: 'sine' }],
    warn: [{ f: 587, at: 0, d: 0.16, type: 'triangle' }, { f: 587, at: 0.24, d: 0.16, type: 'triangle' }],
    bad: [{ f: 196, at: 0, d: 0.5, type: 'square' }],
  };

  function beep(tone) {
    unlockAudio();
    if (!audio) return;
    const start = audio.currentTime + 0.01;
    for (const note of TONES[tone]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = note.type;
      osc.frequency.value = note.f;
      gain.gain.setValueAtTime(0.0001, start + note.at);
      gain.gain.exponentialRampToValueAtTime(0.3, start + note.at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + note.at + note.d);
      osc.connect(gain).connect(audio.destination);
      osc.start(start + note.at);
      osc.stop(start + note.at + note.d + 0.02);
    }
  }

  // ---------------------------------------------------------------- live counter
  let statsTimer = null;
  let statsSoon = null;

  function scheduleStats() {
    clearTimeout(statsSoon);
    statsSoon = setTimeout(refreshStats, 150);
  }

  async function refreshStats() {
    if (!state.event || !state.token) return;
    const eventId = state.event.id;
    try {
      const response = await api(`/api/v1/events/${eventId}/stats`, { timeout: 5000 });
      if (response.status === 200 && state.event && state.event.id === eventId) {
        state.stats = response.data;
        store.set(KEY.stats(eventId), { checked_in: response.data.checked_in, confirmed: response.data.confirmed });
      }
    } catch (err) {
      if (!(err instanceof NetworkError)) console.error(err);
    }
    renderCounter();
  }

  function renderCounter() {
    const stats = state.stats || (state.event ? store.get(KEY.stats(state.event.id)) : null);
    if (!stats) {
      el.countIn.textContent = state.pendingOk ? String(state.pendingOk) : '–';
      el.countConfirmed.textContent = '–';
      return;
    }
    el.countIn.textContent = String(stats.checked_in + state.pendingOk);
    el.countConfirmed.textContent = String(stats.confirmed);
  }

  // ---------------------------------------------------------------- keyboard wedge
  function focusScanInput() {
    if (state.view !== 'scan') return;
    const active = document.activeElement;
    // Let staff type into the other fields (gate); everything else hands focus back to the scanner field.
    if (active && active !== el.scanInput && active.matches('input, textarea, select')) return;
    if (active !== el.scanInput) el.scanInput.focus({ preventScroll: true });
  }

  el.scanInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || (event.key === 'Tab' && el.scanInput.value)) {
      event.preventDefault();
      const value = el.scanInput.value;
      el.scanInput.value = '';
      submitScan(value, 'keyboard');
    }
  });
  el.scanInput.addEventListener('blur', () => setTimeout(focusScanInput, 0));
  document.addEventListener('keydown', (event) => {
    unlockAudio();
    if (state.view === 'scan' && document.activeElement !== el.scanInput && !event.ctrlKey && !event.metaKey && !event.altKey) {
      const active = document.activeElement;
      if (!active || !active.matches('input, textarea, select')) el.scanInput.focus({ preventScroll: true });
    }
  }, true);
  document.addEventListener('pointerdown', unlockAudio, true);
  el.result.addEventListener('click', () => { clearTimeout(hideTimer); hideResult(); });
  setInterval(focusScanInput, 1000);

  // ---------------------------------------------------------------- camera
  const camera = {
    stream: null,
    detector: null,
    canvas: document.createElement('canvas'),
    ctx: null,
    timer: null,
    lastCode: null,
    lastSeenAt: 0,
    busy: false,
  };

  function cameraError(err) {
    const name = err && err.name;
    if (name === 'NotAllowedError' || name === 'PermissionDeniedError' || name === 'SecurityError') return t('camera_denied');
    if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') return t('camera_absent');
    if (name === 'NotReadableError' || name === 'TrackStartError') return t('camera_busy');
    return t('camera_failed', { error: (err && (err.message || err.name)) || String(err) });
  }

  function showCameraMessage(text) {
    el.cameraMessage.textContent = text;
    el.cameraMessage.hidden = !text;
  }

  async function startCamera() {
    showCameraMessage('');
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showCameraMessage(t('camera_unsupported'));
      return false;
    }
    try {
      camera.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (err) {
      camera.stream = null;
      showCameraMessage(cameraError(err));
      return false;
    }
    el.video.srcObject = camera.stream;
    el.cameraBox.hidden = false;
    try { await el.video.play(); } catch (_) { /* autoplay of a muted inline video is allowed */ }
    camera.detector = null;
    if ('BarcodeDetector' in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes('qr_code')) camera.detector = new window.BarcodeDetector({ formats: ['qr_code'] });
      } catch (_) { camera.detector = null; }
    }
    window.__scan.decoder = camera.detector ? 'BarcodeDetector' : 'jsQR';
    state.cameraOn = true;
    store.set(KEY.camera, true);
    el.cameraToggle.textContent = t('camera_stop');
    scheduleFrame(0);
    return true;
  }

  function stopCamera({ remember = true } = {}) {
    clearTimeout(camera.timer);
    if (camera.stream) for (const track of camera.stream.getTracks()) track.stop();
    camera.stream = null;
    el.video.srcObject = null;
    el.cameraBox.hidden = true;
    state.cameraOn = false;
    if (remember) store.set(KEY.camera, false);
    el.cameraToggle.textContent = t('camera_start');
  }

  function scheduleFrame(delay) {
    clearTimeout(camera.timer);
    camera.timer = setTimeout(decodeFrame, delay);
  }

  async function decodeFrame() {
    if (!state.cameraOn || !camera.stream) return;
    const video = el.video;
    if (video.readyState >= 2 && video.videoWidth > 0) {
      let code = null;
      const grabbedAt = performance.now(); // the scan starts when the frame is taken
      try {
        if (camera.detector) {
          const found = await camera.detector.detect(video);
          code = found.length ? found[0].rawValue : null;
        } else if (window.jsQR) {
          const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
          const w = Math.round(video.videoWidth * scale);
          const h = Math.round(video.videoHeight * scale);
          if (camera.canvas.width !== w || camera.canvas.height !== h) {
            camera.canvas.width = w;
            camera.canvas.height = h;
            camera.ctx = null;
          }
          camera.ctx = camera.ctx || camera.canvas.getContext('2d', { willReadFrequently: true });
          camera.ctx.drawImage(video, 0, 0, w, h);
          const image = camera.ctx.getImageData(0, 0, w, h);
          const found = window.jsQR(image.data, w, h, { inversionAttempts: 'attemptBoth' });
          code = found ? found.data : null;
        }
      } catch (err) {
        console.warn('QR decoding failed on a frame', err);
      }
      if (code) {
        const now = performance.now();
        const repeat = code === camera.lastCode && now - camera.lastSeenAt < SAME_CODE_QUIET_MS;
        camera.lastCode = code;
        camera.lastSeenAt = now;
        if (!repeat) submitScan(code, 'camera', grabbedAt);
      }
    }
    scheduleFrame(100);
  }

  el.cameraToggle.addEventListener('click', () => {
    unlockAudio();
    if (state.cameraOn) stopCamera();
    else startCamera();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.hidden && state.cameraOn) {
      stopCamera({ remember: false });
      camera.resume = true;
    } else if (!document.hidden && camera.resume && state.view === 'scan') {
      camera.resume = false;
      startCamera();
    }
  });

  // ---------------------------------------------------------------- views
  function showView(name, message) {
    state.view = name;
    el.viewSignin.hidden = name !== 'signin';
    el.viewEvents.hidden = name !== 'events';
    el.viewScan.hidden = name !== 'scan';
    el.signOut.hidden = name === 'signin';
    el.eventTitle.textContent = name === 'scan' && state.event ? state.event.title : '';
    if (name !== 'scan' && state.cameraOn) stopCamera({ remember: false });
    if (name === 'signin') {
      el.signinError.textContent = message || '';
      el.signinError.hidden = !message;
      el.tokenInput.focus();
    }
    if (name === 'events') loadEvents();
    if (name === 'scan') enterScan();
  }

  async function signIn(token) {
    el.signinError.hidden = true;
    let response;
    try {
      response = await api('/api/v1/checkins/events', { token });
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      showView('signin', t('err_network'));
      return;
    }
    if (response.status !== 200) {
      showView('signin', errorMessage(response));
      return;
    }
    state.token = token;
    store.set(KEY.token, token);
    el.tokenInput.value = '';
    showView('events');
    replayQueue();
  }

  /** When an event starts, in the event's own zone: the server writes its times with their offset. */
  function eventWhen(iso) {
    const match = /^(\d{4})-(\d\d)-(\d\d)T(\d\d:\d\d)/.exec(iso || '');
    if (!match) return '';
    return state.lang === 'en' ? `${match[1]}-${match[2]}-${match[3]} ${match[4]}` : `${Number(match[2])}月${Number(match[3])}日 ${match[4]}`;
  }

  async function loadEvents() {
    el.eventsError.hidden = true;
    el.eventsEmpty.hidden = true;
    let response;
    try {
      response = await api('/api/v1/checkins/events');
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      el.eventsError.textContent = t('err_network');
      el.eventsError.hidden = false;
      return;
    }
    if (response.status === 401) { forgetSession(); showView('signin', t('err_token')); return; }
    if (response.status !== 200) {
      el.eventsError.textContent = errorMessage(response);
      el.eventsError.hidden = false;
      return;
    }
    el.eventList.replaceChildren();
    for (const item of response.data.items) {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.eventId = String(item.id);
      const title = document.createElement('span');
      title.className = 'ev-title';
      title.textContent = item.title;
      const meta = document.createElement('span');
      meta.className = 'ev-meta';
      meta.textContent = [eventWhen(item.starts_at), item.venue].filter(Boolean).join(' · ');
      button.append(title, meta);
      button.addEventListener('click', () => pickEvent({ id: item.id, title: item.title }));
      li.append(button);
      el.eventList.append(li);
    }
    el.eventsEmpty.hidden = response.data.items.length > 0;
    // Signed in by a door-staff link (#token=…&event=…): straight to that event's door.
    const linked = response.data.items.find((item) => item.id === linkedEvent);
    linkedEvent = null;
    if (linked) pickEvent({ id: linked.id, title: linked.title });
  }

  function pickEvent(event) {
    unlockAudio();
    state.event = event;
    state.stats = null;
    store.set(KEY.event, event);
    showView('scan');
  }

  let timers = [];
  function enterScan() {
    for (const timer of timers) clearInterval(timer);
    timers = [
      setInterval(() => { if (navigator.onLine) refreshStats(); }, STATS_EVERY_MS),
      setInterval(() => { if (navigator.onLine) refreshOfflineData(); }, OFFLINE_DATA_EVERY_MS),
      setInterval(() => { if (state.queueLength > 0) replayQueue(); }, REPLAY_EVERY_MS),
    ];
    refreshQueueCount();
    renderCounter();
    refreshStats();
    refreshOfflineData();
    replayQueue();
    focusScanInput();
    if (store.get(KEY.camera) === true && !state.cameraOn) startCamera();
  }

  /** Forget the token and event (the offline queue stays, and is uploaded after the next sign-in). */
  function forgetSession() {
    for (const timer of timers) clearInterval(timer);
    timers = [];
    stopCamera({ remember: false });
    state.token = null;
    state.event = null;
    state.stats = null;
    store.remove(KEY.token);
    store.remove(KEY.event);
  }

  async function signOut() {
    const pending = await refreshQueueCount();
    if (pending > 0 && !window.confirm(t('sign_out_confirm', { n: pending }))) return;
    forgetSession();
    showView('signin');
  }

  // ---------------------------------------------------------------- wiring
  el.signinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    unlockAudio();
    const token = el.tokenInput.value.trim();
    if (token) signIn(token);
  });
  el.signOut.addEventListener('click', signOut);
  el.changeEvent.addEventListener('click', () => showView('events'));
  el.langToggle.addEventListener('click', () => {
    state.lang = state.lang === 'en' ? 'zh' : 'en';
    store.set(KEY.lang, state.lang);
    applyLang();
  });
  el.gateInput.value = store.get(KEY.gate, '') || '';
  el.gateInput.addEventListener('change', () => store.set(KEY.gate, el.gateInput.value.trim()));
  el.gateInput.addEventListener('keydown', (event) => { if (event.key === 'Enter') el.gateInput.blur(); });

  window.addEventListener('online', () => {
    state.reachable = true;
    renderNet();
    replayQueue().then(() => { refreshStats(); refreshOfflineData(); });
  });
  window.addEventListener('offline', renderNet);

  if (!store.get(KEY.device)) store.set(KEY.device, `web-${uuid().slice(0, 8)}`);
  el.deviceId.textContent = store.get(KEY.device);
  el.secureWarning.hidden = window.isSecureContext !== false;

  // A door-staff link from the organizer console: /scan#token=…&event=… (a fragment: never sent to the
  // server). The token signs this phone in; the address bar forgets it at once.
  let linkedEvent = null;
  const fromLink = new URLSearchParams(window.location.hash.slice(1));
  if (fromLink.get('token')) {
    history.replaceState(null, '', window.location.pathname + window.location.search);
    linkedEvent = Number(fromLink.get('event')) || null;
    state.event = null;
    store.remove(KEY.event);
  }

  applyLang();
  refreshQueueCount();
  if (fromLink.get('token')) signIn(fromLink.get('token'));
  else if (!state.token) showView('signin');
  else if (!state.event) showView('events');
  else showView('scan'); // straight back to scanning after a reload, online or not
})();
