// The demo page: plain ES modules, no framework. It drives the service only
// through the SDK (/sdk.js) and the development endpoints (/dev/*).
import { connect, disableWebPush, enableWebPush, markShown } from "/sdk.js";

const $ = (selector) => {
  const el = document.querySelector(selector);
  if (el === null) throw new Error(`missing ${selector}`);
  return el;
};

const ui = {
  connectForm: $("#connect-form"),
  user: $("#user"),
  device: $("#device"),
  connect: $("#connect"),
  disconnect: $("#disconnect"),
  status: $("#status"),
  sessionsUser: $("#sessions-user"),
  sessionsEmpty: $("#sessions-empty"),
  sessions: $("#sessions"),
  sessionsBody: $("#sessions tbody"),
  pushForm: $("#push-form"),
  text: $("#text"),
  oneDevice: $("#one-device"),
  targetOne: $("#target-one"),
  store: $("#store"),
  webpush: $("#webpush"),
  notify: $("#notify"),
  notifyHelp: $("#notify-help"),
  push: $("#push"),
  pushResult: $("#push-result"),
  log: $("#log"),
  logCount: $("#log-count"),
  clearLog: $("#clear-log"),
};

const MAX_LOG = 500;
const PRESENCE_EVERY_MS = 2000;

/** @type {import("../packages/client/src/index.ts").SwitchboardClient | undefined} */
let client;
let connectedUser = "";
let presenceTimer;
let presenceInFlight = false;
let received = 0;

// ---- defaults: ?user= and ?device= prefill; each tab keeps its own device ----

const params = new URLSearchParams(location.search);
ui.user.value = params.get("user") ?? localStorage.getItem("switchboard.demo.user") ?? "alice";
ui.device.value = params.get("device") ?? sessionStorage.getItem("switchboard.demo.device") ?? `tab-${crypto.randomUUID().slice(0, 6)}`;
// Developer knob for trying dead-connection detection: ?heartbeat=<ms> pings that often.
const heartbeatMs = Number(params.get("heartbeat"));
const heartbeat = Number.isInteger(heartbeatMs) && heartbeatMs >= 200 ? { intervalMs: heartbeatMs, timeoutMs: heartbeatMs } : undefined;

// ---- connection ----

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function setConnectedUi(connected) {
  ui.notify.disabled = !connected || !webPushSupported;
  ui.connect.disabled = connected;
  ui.disconnect.disabled = !connected;
  ui.user.readOnly = connected;
  ui.device.readOnly = connected;
  for (const el of document.querySelectorAll(".this-device")) el.textContent = connected ? ui.device.value : "—";
}

async function fetchToken(user) {
  const res = await fetch(`/dev/token?user=${encodeURIComponent(user)}`, { cache: "no-store" });
  if (!res.ok) throw new Error(`token: HTTP ${res.status} ${(await errorMessage(res)) ?? ""}`.trim());
  const body = await res.json();
  return body.token;
}

async function errorMessage(res) {
  try {
    const body = await res.json();
    return body?.error?.message;
  } catch {
    return undefined;
  }
}

function start(event) {
  event.preventDefault();
  if (!ui.connectForm.reportValidity() || client !== undefined) return;
  const user = ui.user.value.trim();
  const device = ui.device.value.trim();
  localStorage.setItem("switchboard.demo.user", user);
  sessionStorage.setItem("switchboard.demo.device", device);
  connectedUser = user;
  ui.sessionsUser.textContent = `of ${user}`;
  setConnectedUi(true);
  setStatus("connecting", `Connecting as ${user} / ${device}…`);

  client = connect({
    url: location.origin,
    device,
    getToken: () => fetchToken(user),
    // Per tab: a reload of this tab resumes where it stopped.
    storage: sessionStorage,
    ...(heartbeat ? { heartbeat } : {}),
  });
  client.on("open", (e) => {
    setStatus("open", `Connected as ${e.userId} / ${e.device} (session ${short(e.sessionId)}, head ${e.head}).`);
    note(e.since === undefined ? `connected, head ${e.head}` : `resumed after seq ${e.since}, head ${e.head}`);
    void refreshPresence();
  });
  client.on("message", (m) => {
    addMessage(m);
    // The service worker then shows no notification for a message this tab already shows.
    markShown(m.id, navigator.serviceWorker?.controller);
  });
  client.on("resync", (e) => note(`messages were lost (resync): head is ${e.head}; an app would refetch its state now`));
  client.on("close", (e) => {
    const why = `${e.code}${e.reason ? ` ${e.reason}` : ""}`;
    if (e.willReconnect) {
      setStatus("reconnecting", `Connection lost (${why}); retrying in ${(e.retryInMs / 1000).toFixed(1)} s…`);
    } else {
      setStatus(e.code === 1000 ? "closed" : "error", e.code === 1000 ? "Not connected." : `Closed for good (${why}).`);
      stopClient();
    }
    void refreshPresence();
  });
  client.on("error", (e) => {
    if (e.kind === "token" || e.kind === "config") setStatus("error", e.cause instanceof Error ? e.cause.message : e.message);
  });
  schedulePresence();
}

function stopClient() {
  const c = client;
  client = undefined;
  setConnectedUi(false);
  c?.close();
}

ui.connectForm.addEventListener("submit", start);
ui.disconnect.addEventListener("click", () => {
  stopClient();
  setStatus("closed", "Not connected.");
  note("disconnected");
});

// ---- presence ----

function schedulePresence() {
  clearTimeout(presenceTimer);
  // refreshPresence never rejects: it catches its own fetch errors.
  presenceTimer = setTimeout(() => {
    void refreshPresence().then(() => {
      if (client !== undefined) schedulePresence();
    });
  }, PRESENCE_EVERY_MS);
}

async function refreshPresence() {
  if (connectedUser === "" || presenceInFlight || document.visibilityState === "hidden") return;
  presenceInFlight = true;
  try {
    const res = await fetch(`/dev/presence?user=${encodeURIComponent(connectedUser)}`, { cache: "no-store" });
    if (res.ok) renderSessions(await res.json());
  } catch {
    // The next poll tries again; the status line already says when we are offline.
  } finally {
    presenceInFlight = false;
  }
}
document.addEventListener("visibilitychange", () => void refreshPresence());

function renderSessions(presence) {
  const sessions = [...presence.sessions].sort((a, b) => a.connectedAt - b.connectedAt);
  ui.sessions.hidden = sessions.length === 0;
  ui.sessionsEmpty.hidden = sessions.length > 0;
  ui.sessionsEmpty.textContent = `${presence.userId} has no live session.`;
  const rows = sessions.map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.sessionId = s.sessionId;
    tr.dataset.device = s.device;
    if (client?.sessionId === s.sessionId) tr.className = "mine";
    tr.append(cell(s.device), cell(short(s.sessionId), true), cell(clock(s.connectedAt)), cell(ago(s.lastSeenAt)));
    return tr;
  });
  ui.sessionsBody.replaceChildren(...rows);

  // Keep the device picker in step, without losing the current choice.
  const devices = [...new Set(sessions.map((s) => s.device))].sort();
  const chosen = ui.oneDevice.value;
  const options = devices.map((d) => new Option(d === ui.device.value && client ? `${d} (this tab)` : d, d));
  if (options.length === 0) options.push(new Option("(no live devices)", ""));
  ui.oneDevice.replaceChildren(...options);
  if (devices.includes(chosen)) ui.oneDevice.value = chosen;
}

function cell(text, code = false) {
  const td = document.createElement("td");
  if (code) {
    const c = document.createElement("code");
    c.textContent = text;
    td.append(c);
  } else {
    td.textContent = text;
  }
  return td;
}

// ---- push ----

ui.oneDevice.addEventListener("change", () => {
  ui.targetOne.checked = true;
});

ui.pushForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const user = connectedUser || ui.user.value.trim();
  const target = new FormData(ui.pushForm).get("target");
  const body = { data: { text: ui.text.value, from: ui.device.value } };
  if (target === "except") body.exceptDevice = ui.device.value;
  if (target === "one") {
    if (ui.oneDevice.value === "") {
      ui.pushResult.textContent = "Pick a device first (connect to list them).";
      ui.oneDevice.focus();
      return;
    }
    body.device = ui.oneDevice.value;
  }
  if (!ui.store.checked) body.ttl = 0;
  if (ui.webpush.checked && ui.store.checked) body.webpush = true;
  ui.push.disabled = true;
  try {
    const res = await fetch(`/dev/push?user=${encodeURIComponent(user)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) {
      ui.pushResult.textContent = `Push failed: HTTP ${res.status} ${(await errorMessage(res)) ?? ""}`;
      return;
    }
    const r = await res.json();
    const where = target === "except" ? ` (all but ${body.exceptDevice})` : target === "one" ? ` (only ${body.device})` : "";
    const notified = r.webpush === undefined ? "" : ` Web Push queued for ${r.webpush} offline device${r.webpush === 1 ? "" : "s"}.`;
    ui.pushResult.textContent = `Pushed ${r.seq === null ? "live-only" : `seq ${r.seq}`}${where}: delivered to ${r.delivered} of ${r.sessions} session${r.sessions === 1 ? "" : "s"}.${notified}`;
  } catch (err) {
    ui.pushResult.textContent = `Push failed: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    ui.push.disabled = false;
    void refreshPresence();
  }
});

// ---- Web Push: "notify me when this tab is closed" ----

const webPushSupported = "serviceWorker" in navigator && "PushManager" in window && window.isSecureContext;
if (!webPushSupported) ui.notifyHelp.textContent = "This browser (or an insecure origin) has no Web Push.";

async function pushManager() {
  // A module worker, so it can import the SDK's helper (/sw.js).
  await navigator.serviceWorker.register("/sw.js", { type: "module" });
  return (await navigator.serviceWorker.ready).pushManager;
}

ui.notify.addEventListener("change", async () => {
  const options = { url: location.origin, device: ui.device.value, token: () => fetchToken(connectedUser) };
  ui.notify.disabled = true;
  try {
    if (ui.notify.checked) {
      await enableWebPush({ ...options, pushManager: await pushManager() });
      note(`Web Push on for ${ui.device.value}: close this tab and push to it`);
    } else {
      await disableWebPush({ ...options, pushManager: await pushManager() });
      note(`Web Push off for ${ui.device.value}`);
    }
  } catch (err) {
    ui.notify.checked = !ui.notify.checked;
    note(`Web Push: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    ui.notify.disabled = client === undefined;
  }
});

// ---- message log ----

function addMessage(m) {
  const li = document.createElement("li");
  li.dataset.id = m.id;
  if (m.seq !== null) li.dataset.seq = String(m.seq);
  const time = document.createElement("time");
  time.dateTime = new Date(m.sentAt).toISOString();
  time.textContent = clock(m.sentAt);
  const seq = document.createElement("span");
  seq.className = "seq";
  seq.textContent = m.seq === null ? "live" : `#${m.seq}`;
  const data = document.createElement("span");
  // textContent, never innerHTML: pushed data is untrusted.
  data.textContent = describe(m.data);
  li.append(time, seq, data);
  prepend(li);
  received++;
  ui.logCount.textContent = `${received} message${received === 1 ? "" : "s"}`;
}

function note(text) {
  const li = document.createElement("li");
  li.className = "note";
  li.textContent = `${clock(Date.now())} ${text}`;
  prepend(li);
}

function prepend(li) {
  ui.log.prepend(li);
  while (ui.log.childElementCount > MAX_LOG) ui.log.lastElementChild?.remove();
}

ui.clearLog.addEventListener("click", () => {
  ui.log.replaceChildren();
  received = 0;
  ui.logCount.textContent = "0 messages";
});

function describe(data) {
  if (data !== null && typeof data === "object" && typeof data.text === "string") {
    return typeof data.from === "string" ? `${data.text}  — from ${data.from}` : data.text;
  }
  return JSON.stringify(data);
}

// ---- formatting ----

function short(id) {
  return id.length > 8 ? id.slice(0, 8) : id;
}
function clock(ms) {
  return new Date(ms).toLocaleTimeString();
}
function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 2 ? "just now" : `${s} s ago`;
}

// Handy in the console, and what the browser test reads for session ids.
window.switchboardDemo = {
  get client() {
    return client;
  },
};
