// Qorgan operator console: the live queue over the SSE feed, the timers,
// the sound and title flash for a new alarm, and the keyboard. Loaded from
// a file (the Content-Security-Policy allows no inline script).
"use strict";

// refreshParts reads this page again, puts the fresh copies of the parts
// named by selectors in place of the shown ones and returns the page read;
// offline, or on an error answer, the page keeps what it had (null).
async function refreshParts(...selectors) {
  try {
    const res = await fetch(window.location.pathname, { credentials: "same-origin" });
    if (!res.ok) return null;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    for (const sel of selectors) {
      const now = doc.querySelector(sel);
      const here = document.querySelector(sel);
      if (now && here) here.replaceWith(now);
    }
    return doc;
  } catch (_) {
    return null; // offline: the next call tries again
  }
}

// refreshSoon is refreshParts for the live feed's events: the first one
// reads the page at once, and those that follow within a second are read
// together at its end. In an alarm storm every new alarm asks; the page is
// read at most once a second, not once an alarm.
const pendingParts = new Set();
let refreshTimer = null;
let refreshedAt = 0;
function refreshSoon(...selectors) {
  for (const sel of selectors) pendingParts.add(sel);
  if (refreshTimer !== null) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    refreshedAt = Date.now();
    const parts = [...pendingParts];
    pendingParts.clear();
    refreshParts(...parts);
  }, Math.max(0, refreshedAt + 1000 - Date.now()));
}

(function () {
  const root = document.getElementById("console");
  if (!root) return;

  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const person = document.querySelector('meta[name="person"]').content;
  const party = root.dataset.party;
  const skew = Number(root.dataset.now) - Date.now(); // server clock − ours
  let lastSeq = Number(root.dataset.after);
  const words = {};
  for (const el of document.getElementById("words").content.querySelectorAll("[data-k]")) {
    words[el.dataset.k] = el.textContent;
  }
  const w = (k) => words[k] || k;
  const rowTemplate = document.getElementById("row-template").content.querySelector("tr");
  const lists = { 1: document.querySelector("#alarms tbody"), 2: document.querySelector("#trouble tbody") };

  // ---- sound: generated with Web Audio, switchable per person ----
  const soundKey = "qorgan.sound." + person;
  const soundBox = document.getElementById("sound");
  soundBox.checked = localStorage.getItem(soundKey) !== "off";
  soundBox.addEventListener("change", () => localStorage.setItem(soundKey, soundBox.checked ? "on" : "off"));
  let audio = null;
  function unlockAudio() {
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === "suspended") audio.resume();
  }
  document.addEventListener("pointerdown", unlockAudio);
  document.addEventListener("keydown", unlockAudio);
  function beep() {
    if (!soundBox.checked) return;
    unlockAudio();
    if (!audio) return;
    const t0 = audio.currentTime;
    for (let i = 0; i < 3; i++) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "square";
      osc.frequency.value = i % 2 ? 660 : 880;
      gain.gain.setValueAtTime(0.0001, t0 + i * 0.3);
      gain.gain.exponentialRampToValueAtTime(0.25, t0 + i * 0.3 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.3 + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0 + i * 0.3);
      osc.stop(t0 + i * 0.3 + 0.26);
    }
  }

  // ---- title flash until the operator looks ----
  const title = document.title;
  let unseen = 0;
  let flash = null;
  function flashTitle() {
    unseen++;
    if (flash) return;
    let on = false;
    flash = setInterval(() => {
      on = !on;
      document.title = on ? "(" + unseen + ") ▲ " + w("ui.console.new_alarm") : title;
    }, 800);
  }
  function seen() {
    if (!flash) return;
    clearInterval(flash);
    flash = null;
    unseen = 0;
    document.title = title;
  }
  window.addEventListener("focus", seen);
  document.addEventListener("keydown", seen);
  document.addEventListener("pointerdown", seen);

  // ---- rows ----
  function rowOf(id) {
    return document.querySelector('tr.alarm[data-id="' + id + '"]');
  }
  function acknowledgedBy(a, p) {
    return (a.steps || []).some((s) => s.party === p && s.step === "acknowledged");
  }
  function fill(tr, a) {
    const mine = party !== "" && acknowledgedBy(a, party);
    tr.dataset.id = a.id;
    tr.dataset.since = Date.parse(a.committed_at);
    tr.classList.remove("prio-1", "prio-2");
    tr.classList.add("prio-" + a.priority);
    tr.classList.toggle("mine", mine);
    tr.querySelector(".icon").textContent = a.priority === 2 ? "◆" : "▲";
    tr.querySelector(".prio-word").textContent = w("priority." + a.priority);
    const at = new Date(a.committed_at);
    const clock = tr.querySelector(".clock");
    clock.dateTime = at.toISOString().replace(/\.\d+Z$/, "Z");
    clock.textContent = almatyClock(at);
    const link = tr.querySelector(".school");
    link.href = "/alarms/" + a.id;
    link.textContent = (document.documentElement.lang === "kk" && a.school_name_kk) || a.school_name;
    tr.querySelector(".type").textContent = w("type." + a.type);
    tr.querySelector(".zone").textContent = a.zone ? " · " + w("ui.zone") + " " + a.zone : "";
    tr.querySelector(".state").textContent = w("state." + a.state);
    for (const span of tr.querySelectorAll(".ack")) {
      const done = acknowledgedBy(a, span.dataset.party);
      span.classList.toggle("done", done);
      span.textContent = w("party." + span.dataset.party) + ": " + (done ? "✓ " + w("ui.ack.done") : w("ui.ack.waiting"));
    }
    const form = tr.querySelector(".ack-form");
    form.action = "/alarms/" + a.id + "/acknowledge";
    form.classList.toggle("hidden", party === "" || mine || a.state === "resolved");
    tick(tr);
  }
  // Almaty keeps UTC+5 all year (see internal/kztime).
  function almatyClock(d) {
    const t = new Date(d.getTime() + 5 * 3600 * 1000);
    const p = (n) => String(n).padStart(2, "0");
    return p(t.getUTCHours()) + ":" + p(t.getUTCMinutes()) + ":" + p(t.getUTCSeconds());
  }
  function counts() {
    for (const [prio, name] of [[1, "alarms"], [2, "trouble"]]) {
      const n = lists[prio].rows.length;
      document.getElementById(name + "-count").textContent = n;
      document.getElementById(name + "-empty").classList.toggle("hidden", n > 0);
      document.getElementById(name).classList.toggle("hidden", n === 0);
    }
  }
  function upsert(a, fresh) {
    let tr = rowOf(a.id);
    if (a.state === "resolved") {
      if (tr) tr.remove();
      counts();
      return;
    }
    const isNew = !tr;
    if (isNew) {
      tr = rowTemplate.cloneNode(true);
      lists[a.priority === 2 ? 2 : 1].prepend(tr); // newest first
    }
    fill(tr, a);
    counts();
    if (isNew && fresh && a.priority !== 2) {
      beep();
      flashTitle();
    }
  }

  // ---- timers against the 30 s and 60 s acknowledgement marks ----
  function tick(tr) {
    const age = Math.max(0, Math.floor((Date.now() + skew - Number(tr.dataset.since)) / 1000));
    tr.querySelector(".timer").textContent = Math.floor(age / 60) + ":" + String(age % 60).padStart(2, "0");
    tr.classList.toggle("age-0", age < 30);
    tr.classList.toggle("age-30", age >= 30 && age < 60);
    tr.classList.toggle("age-60", age >= 60);
  }
  setInterval(() => document.querySelectorAll("tr.alarm[data-since]").forEach((tr) => {
    if (tr.closest("template")) return;
    tick(tr);
  }), 250);

  // ---- the live feed: resumes after the last event it saw ----
  const status = document.getElementById("status");
  function setStatus(live) {
    status.classList.toggle("live", live);
    status.classList.toggle("offline", !live);
    status.querySelector(".status-text").textContent = w(live ? "ui.console.live" : "ui.console.offline");
    document.body.classList.toggle("offline", !live);
  }
  const kinds = ["alarm.raised", "alarm.acknowledged", "alarm.dispatched", "alarm.on_site", "alarm.resolved", "alarm.escalated", "alarm.restored"];
  let source = null;
  let retry = null;
  function connect() {
    // A new stream asks from lastSeq; the browser's own reconnection
    // sends Last-Event-ID, which the server prefers.
    source = new EventSource("/api/v1/live?after=" + lastSeq);
    source.addEventListener("open", () => setStatus(true));
    source.addEventListener("error", () => {
      setStatus(false);
      if (source.readyState === EventSource.CLOSED) {
        // The server refused: an ended session goes to sign-in (and back
        // here after); a restart is tried again.
        clearTimeout(retry);
        retry = setTimeout(async () => {
          try {
            const res = await fetch("/api/v1/me", { credentials: "same-origin" });
            if (res.status === 401) {
              window.location.href = "/?next=" + encodeURIComponent(window.location.pathname);
              return;
            }
          } catch (_) {
            // offline: keep trying
          }
          connect();
        }, 3000);
      }
    });
    for (const k of kinds) {
      source.addEventListener(k, (ev) => {
        const seq = Number(ev.lastEventId);
        if (seq > lastSeq) lastSeq = seq;
        const e = JSON.parse(ev.data);
        upsert(e.alarm, k === "alarm.raised");
        // An acknowledgement changes the shares within 30 s and 60 s.
        if (k === "alarm.acknowledged") refreshSoon(".stats");
        // A panic proposes an emergency; a closed alarm no longer does.
        if (k === "alarm.raised" || k === "alarm.resolved") refreshSoon("#proposals-live");
      });
    }
    // An emergency declared, changed or ended: the emergencies in force
    // and the proposals (a declared one proposes no more).
    for (const k of ["emergency.pending", "emergency.declared", "emergency.updated", "emergency.all_clear", "emergency.cancelled"]) {
      source.addEventListener(k, () => refreshSoon("#proposals-live", "#emergencies-live"));
    }
  }
  window.addEventListener("offline", () => setStatus(false));
  connect();

  // ---- acknowledge: the API's own call, this operator's party only ----
  async function acknowledge(tr) {
    const form = tr && tr.querySelector(".ack-form");
    if (!form || form.classList.contains("hidden")) return;
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const res = await fetch("/api/v1/alarms/" + tr.dataset.id + "/acknowledge", {
        method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin",
      });
      if (res.ok) {
        upsert(await res.json(), false);
      } else if (res.status === 409) {
        form.classList.add("hidden"); // already acknowledged by this party
      } else {
        button.title = w("ui.console.ack_failed");
      }
    } catch (_) {
      button.title = w("ui.console.ack_failed");
      setStatus(false);
    } finally {
      button.disabled = false;
    }
  }
  root.addEventListener("submit", (ev) => {
    const tr = ev.target.closest("tr.alarm");
    if (!tr) return;
    ev.preventDefault();
    acknowledge(tr);
  });

  // ---- keyboard ----
  let selected = null;
  function rows() {
    return [...lists[1].rows, ...lists[2].rows];
  }
  function select(tr) {
    if (selected) selected.classList.remove("selected");
    selected = tr;
    if (tr) {
      tr.classList.add("selected");
      tr.focus();
    }
  }
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
    const all = rows();
    const i = selected && selected.isConnected ? all.indexOf(selected) : -1;
    switch (ev.key) {
      case "j": case "ArrowDown":
        if (all.length) select(all[Math.min(all.length - 1, i + 1)]);
        break;
      case "k": case "ArrowUp":
        if (all.length) select(all[Math.max(0, i - 1)]);
        break;
      case "a": {
        // The selected alarm, or else the newest this party has not acknowledged.
        const tr = i >= 0 ? selected : all.find((r) => !r.querySelector(".ack-form").classList.contains("hidden"));
        acknowledge(tr);
        break;
      }
      case "d": case "r": {
        // Dispatch and close need a name or an outcome: the alarm's page,
        // with that field ready for typing.
        if (i < 0) return;
        // (A query, not a #fragment: a fragment's scroll moves the focus
        // off the field once the page has loaded.)
        window.location.href = selected.querySelector(".school").href + (ev.key === "d" ? "?step=dispatch" : "?step=resolve");
        break;
      }
      case "Enter":
        if (i >= 0 && t === selected) window.location.href = selected.querySelector(".school").href;
        else return;
        break;
      case "s":
        soundBox.checked = !soundBox.checked;
        soundBox.dispatchEvent(new Event("change"));
        break;
      default:
        return;
    }
    ev.preventDefault();
  });
})();

// The alarm's page: the response steps by key, and the page kept current
// while other parties act on the alarm.
(function () {
  const root = document.getElementById("alarm-page");
  if (!root) return;
  const id = root.dataset.id;

  function focusStep(step) {
    const field = { dispatch: "responder", resolve: "resolution" }[step];
    const el = field && document.getElementById(field);
    if (el) el.focus();
  }
  focusStep(new URLSearchParams(window.location.search).get("step"));
  const invalid = document.querySelector('[aria-invalid="true"]');
  if (invalid) invalid.focus();

  function submit(formID) {
    const form = document.getElementById(formID);
    if (form) form.requestSubmit();
  }
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) {
      if (ev.key === "Escape") t.blur();
      return;
    }
    switch (ev.key) {
      case "a": submit("ack"); break;
      case "d": focusStep("dispatch"); break;
      case "o": submit("on-site"); break;
      case "r": focusStep("resolve"); break;
      case "Escape": window.location.href = "/console"; break;
      default: return;
    }
    ev.preventDefault();
  });

  // Another party's step: the state, the acknowledgements, the timeline
  // and which steps remain are read again from the page itself; a form
  // being filled in is left as it is.
  async function refresh() {
    const doc = await refreshParts(".alarm-state", ".alarm-acks", ".timeline tbody");
    if (!doc) return;
    const forms = (d) => [...d.querySelectorAll(".step-form")].map((f) => f.id).join(" ");
    const busy = document.activeElement && document.activeElement.closest(".step-form");
    if (forms(doc) !== forms(document) && !busy) {
      const now = doc.querySelector(".respond");
      const here = document.querySelector(".respond");
      if (now && here) here.replaceWith(now);
      else if (here) here.remove();
    }
  }
  let last = Number(root.dataset.after);
  const source = new EventSource("/api/v1/live?after=" + last);
  for (const k of ["alarm.acknowledged", "alarm.dispatched", "alarm.on_site", "alarm.resolved", "alarm.escalated", "alarm.restored"]) {
    source.addEventListener(k, (ev) => {
      const e = JSON.parse(ev.data);
      if (String(e.alarm.id) === id) refresh();
    });
  }
  // Another party confirmed the proposal.
  source.addEventListener("emergency.declared", () => refreshSoon("#proposals-live"));
})();

// The school's board: kept current by reading the page again every few
// seconds (passes are many and small; the board shows the newest), and the
// panic button, which a press alone does not raise: held for 1.5 s it
// confirms itself, a click goes to the confirmation page.
(function () {
  const root = document.getElementById("board");
  if (!root) return;
  setInterval(() => refreshParts("#board-live", "#updated"), 5000);

  const form = document.getElementById("panic-form");
  const button = document.getElementById("panic-button");
  if (!form || !button) return;
  let timer = null;
  function start(ev) {
    if (ev.type === "keydown" && ev.key !== " " && ev.key !== "Enter") return;
    if (ev.type === "keydown" && ev.repeat) return;
    clearTimeout(timer);
    button.classList.add("holding");
    timer = setTimeout(() => {
      timer = null;
      button.classList.remove("holding");
      const c = document.createElement("input");
      c.type = "hidden";
      c.name = "confirmed";
      c.value = "yes";
      form.append(c);
      form.submit();
    }, 1500);
  }
  function stop() {
    button.classList.remove("holding");
    if (timer) clearTimeout(timer);
    timer = null;
  }
  button.addEventListener("pointerdown", start);
  button.addEventListener("keydown", start);
  for (const e of ["pointerup", "pointerleave", "keyup", "blur"]) button.addEventListener(e, stop);
})();

// The roll-call: print the list as filtered.
(function () {
  const print = document.getElementById("print");
  if (print) print.addEventListener("click", () => window.print());
})();

// The guardian's pages: today's passes kept current, and Web Push offered
// where the browser has it (the subscription goes to Qorgan, which sends
// through the outbox like any other channel).
(function () {
  const root = document.getElementById("family");
  if (!root) return;
  setInterval(() => refreshParts("#family-live"), 10000);

  const box = document.getElementById("push");
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !box) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const words = {};
  for (const el of document.getElementById("push-words").content.querySelectorAll("[data-k]")) words[el.dataset.k] = el.textContent;
  const state = document.getElementById("push-state");
  const button = document.getElementById("push-subscribe");
  box.classList.remove("hidden");
  const b64 = (s) => {
    const pad = "=".repeat((4 - (s.length % 4)) % 4);
    const raw = atob((s + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  };
  async function subscribe() {
    button.disabled = true;
    try {
      const reg = await navigator.serviceWorker.register("/sw.js");
      await navigator.serviceWorker.ready;
      if ((await Notification.requestPermission()) !== "granted") {
        state.textContent = words.denied;
        return;
      }
      const keyRes = await fetch("/api/v1/push/vapid-public-key");
      const key = (await keyRes.json()).key;
      const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64(key) });
      const res = await fetch("/api/v1/me/push-subscriptions", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(sub.toJSON()),
      });
      state.textContent = res.ok ? words.on : words.failed;
    } catch (_) {
      state.textContent = words.failed;
    } finally {
      button.disabled = false;
    }
  }
  button.addEventListener("click", subscribe);
  navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready).then((reg) => reg.pushManager.getSubscription())
    .then((sub) => { if (sub) state.textContent = words.on; }).catch(() => {});
})();

// An import's page: the progress bar follows the job; when it ends, the
// page is read again for its report.
(function () {
  const root = document.getElementById("import-job");
  if (!root || root.dataset.running !== "true") return;
  const bar = document.getElementById("progress");
  const processed = document.getElementById("processed");
  const timer = setInterval(async () => {
    try {
      const res = await fetch("/api/v1/imports/" + root.dataset.id, { credentials: "same-origin" });
      if (!res.ok) return;
      const job = await res.json();
      if (job.total > 0) bar.value = Math.floor((job.processed * 100) / job.total);
      if (processed) processed.textContent = job.processed;
      if (job.status !== "running") {
        clearInterval(timer);
        bar.value = 100;
        window.location.reload();
      }
    } catch (_) {
      // offline: try again on the next tick
    }
  }, 500);
})();

// A form that does what cannot be taken back at a click (blocking a
// person's account) says so in data-confirm and asks before it is sent.
document.addEventListener("submit", (ev) => {
  const ask = ev.target.dataset ? ev.target.dataset.confirm : undefined;
  if (ask && !window.confirm(ask)) ev.preventDefault();
}, true);
