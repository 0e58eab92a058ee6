// chatroom in a browser: one WebSocket to /ws (docs/websocket.md).
// Every piece of user text is put on the page with textContent, never as HTML.
"use strict";

const LABELS = {
  en: {
    title: "chatroom", intro: "Pick a name and your lab group to join the room.",
    name: "Name", group: "Lab group", join: "Join", conversation: "Conversation",
    message: "Message", send: "Send", help: "Help", online: "Online",
    placeholder: "Type a message, or /help for the commands", placeholderShort: "Message, or /help",
    connecting: "connecting…", connected: "connected", lost: "connection lost",
    rejoining: (name) => `rejoining as ${name}…`,
    unreachable: "Can't connect to the chat server: the connection was refused. Check the " +
      "address, or try again later. (If you run the server: this page's address must be " +
      "allowed, see --web-origin.)",
    unconfirmed: "not confirmed: the connection was lost",
    retry: (s) => `connection lost; reconnecting in ${s} s…`,
    closed: "disconnected", to: "to",
    private: "private", history: "history", needed: "Please fill this in.", langName: "Polski",
    langLabel: "Język polski",
  },
  pl: {
    title: "chatroom", intro: "Wybierz nick i swoją grupę laboratoryjną, aby wejść do pokoju.",
    name: "Nick", group: "Grupa", join: "Wejdź", conversation: "Rozmowa",
    message: "Wiadomość", send: "Wyślij", help: "Pomoc", online: "Obecni",
    placeholder: "Napisz wiadomość albo /pomoc, by zobaczyć polecenia",
    placeholderShort: "Wiadomość albo /pomoc",
    connecting: "łączenie…", connected: "połączono", lost: "utracono połączenie",
    rejoining: (name) => `ponowne wejście jako ${name}…`,
    unreachable: "Nie można połączyć się z serwerem czatu: połączenie zostało odrzucone. " +
      "Sprawdź adres albo spróbuj później. (Jeśli prowadzisz serwer: adres tej strony musi " +
      "być dozwolony, zob. --web-origin.)",
    unconfirmed: "niepotwierdzone: utracono połączenie",
    retry: (s) => `utracono połączenie; ponowna próba za ${s} s…`,
    closed: "rozłączono", to: "do",
    private: "prywatnie", history: "historia", needed: "Uzupełnij to pole.", langName: "English",
    langLabel: "English language",
  },
};

const $ = (id) => document.getElementById(id);
// Catalog keys (the "message" field) the page acts on: docs/websocket.md.
const NAME_TAKEN = "the name {name} is taken; pick another.";
const HELP_ENTRY = "  {label:<{width}}{summary}";
// A rejoin that finds its name still held (the server hasn't yet noticed the
// old connection is dead: up to twice --web-ping, 30 s by default) keeps
// asking, with backoff, this long before giving the form back.
const REJOIN_MS = 90000;
// Connections refused before any opened (a wrong address, an origin the server
// doesn't allow): after this many the page stops and says so.
const MAX_FAILURES = 3;
const PHONE = window.matchMedia("(max-width: 40rem)");
const state = {
  lang: (navigator.language || "en").toLowerCase().startsWith("pl") ? "pl" : "en",
  ws: null,
  name: "", group: "",
  joined: false,        // registered in the room on this connection
  wanted: false,        // the user asked to be in the room (reconnect if dropped)
  awaiting: null,       // the field the server asked for: "name" or "group"
  sent: null,           // the field we answered last (errors go beside it)
  attempt: 0, timer: null,
  failures: 0,          // connections closed before opening, in a row
  everJoined: false,    // joined once since the form was sent: rejoin by ourselves
  rejoinUntil: 0, rejoinTries: 0,
  pending: [],          // own public lines not yet confirmed (public_sent) or refused
  seen: new Map(),      // public lines shown, by time+name+text: no duplicate on a replay
  history: [], back: -1, draft: "",
  unread: 0, max: 0,
  quietLangError: false,
  quietLangNotice: false,
  langTold: false,      // /lang sent on this connection, before registering
};

function t(key, ...args) {
  const value = LABELS[state.lang][key];
  return typeof value === "function" ? value(...args) : value;
}

// ---- labels and language

function applyLabels() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("line").placeholder = t(PHONE.matches ? "placeholderShort" : "placeholder");
  const other = state.lang === "pl" ? "en" : "pl";
  $("lang").textContent = other.toUpperCase();
  $("lang").setAttribute("aria-label", t("langLabel"));
  $("lang").title = t("langName");
}

function tellLanguage() {
  // The server learns the page's language (it renders "line" and "text" in it).
  // A server without /lang answers with an error, which is not shown.
  if (state.joined && state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.quietLangError = true;
    state.ws.send(`/lang ${state.lang}`);
  }
}

PHONE.addEventListener("change", applyLabels);

$("lang").addEventListener("click", () => {
  state.lang = state.lang === "pl" ? "en" : "pl";
  applyLabels();
  tellLanguage();
});

// ---- the connection

function status(text) { $("status").textContent = text; }

function connect() {
  clearTimeout(state.timer);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  // ?lang: the server greets (or refuses) in the page's language from the first word.
  const ws = new WebSocket(`${scheme}//${location.host}/ws?lang=${state.lang}`);
  state.ws = ws;
  state.joined = false;
  state.awaiting = null;
  state.langTold = false;
  status(t("connecting"));
  let opened = false;
  ws.onopen = () => { opened = true; state.attempt = 0; state.failures = 0; status(t("connected")); };
  ws.onmessage = (message) => {
    let data;
    try { data = JSON.parse(message.data); } catch (e) { return; }
    for (const event of Array.isArray(data) ? data : [data]) handle(event);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    state.joined = false;
    unconfirmed();
    if (!opened) state.failures += 1;
    if (state.wanted && !state.everJoined && state.failures >= MAX_FAILURES) {
      // Never got in: a refusal (403 origin, not a chat server) won't mend by retrying.
      state.wanted = false;
      status(t("closed"));
      showForm();
      $("form-error").textContent = t("unreachable");
    } else if (state.wanted) {
      // Backoff with jitter: 1, 2, 4 ... 30 s, so a restarted server isn't stampeded.
      const delay = Math.min(30, 2 ** state.attempt) * (0.5 + Math.random() / 2);
      state.attempt += 1;
      status(t("retry", Math.ceil(delay)));
      line("system", t("lost"));
      state.timer = setTimeout(connect, delay * 1000);
    } else {
      status(t("closed"));
      showForm();
    }
  };
}

function answer(field) {
  const value = field === "name" ? state.name : state.group;
  state.sent = field;
  state.ws.send(value);
}

// ---- what the server says

function handle(event) {
  switch (event.type) {
    case "welcome":
      state.max = event.max;
      break;
    case "prompt":
      state.awaiting = event.field;
      if (!state.langTold) {
        // Registration in the page's language too: the server answers /lang
        // (a notice, or an old server's error: neither is shown) and asks again.
        state.langTold = true;
        state.quietLangError = state.quietLangNotice = true;
        state.ws.send(`/lang ${state.lang}`);
        break;
      }
      if (state.wanted && !state.blocked) answer(event.field);
      break;
    case "error":
      if (state.quietLangError) { state.quietLangError = state.quietLangNotice = false; break; }
      if (event.said && state.pending.length) {
        // The server refused one of our chat lines (flooding, too long, muted).
        refused(state.pending.shift(), event.text);
      } else if (!state.joined && retryName(event)) {
        break;
      } else if (!state.joined) {
        fieldError(state.sent || "name", event.text);
        state.blocked = true;
        if (!$("chat").hidden) showForm();
      } else {
        line("error", event.text);
      }
      break;
    case "registered":
      state.joined = true;
      state.everJoined = true;
      state.rejoinUntil = 0;
      state.rejoinTries = 0;
      status(t("connected"));
      state.name = event.name;
      state.group = event.group;
      state.max = event.max;
      showChat();
      line("system", event.line);
      break;
    case "roster":
      roster(event.members, event.online, event.max, event.ops || []);
      if (event.asked) line("system", event.line);
      break;
    case "public":
      // Replayed on joining: said before you came, shown dimmed and tagged;
      // after a rejoin, what the page shows already is not shown twice.
      if (state.seen.has(key(event.time, event.name, event.text))) break;
      say(event.time, event.name, event.group, event.text, event.history ? "history" : "");
      break;
    case "public_sent": {
      // Our own line, delivered: the oldest one waiting (the server answers in order).
      const mine = state.pending.shift();
      if (!mine) break;
      mine.classList.remove("pending");
      mine.querySelector(".time").textContent = stamp(event.time);
      remember(mine, key(event.time, state.name, event.text));
      break;
    }
    case "private":
      say(event.time, event.from, event.group, event.text, "private");
      break;
    case "private_sent":
      say(event.time, state.name, `${t("to")} ${event.to}`, event.text, "private mine");
      break;
    case "joined": case "left": case "renamed": case "shutdown":
      // The server's sentence in its language, without its own [HH:MM:SS].
      line("system", (event.line || "").replace(/^\[\d\d:\d\d:\d\d\] /, ""), event.time);
      if (event.online !== undefined) count(event.online, event.max);
      if (event.type === "renamed" && event.old === state.name) state.name = event.new;
      break;
    case "announcement":
      line("announcement", event.line.replace(/^\[\d\d:\d\d:\d\d\] /, ""), event.time);
      break;
    case "notice":
      if (state.quietLangNotice) { state.quietLangError = state.quietLangNotice = false; break; }
      state.quietLangError = false;
      // Help lines are aligned with spaces: shown in a monospaced font.
      line(event.message === HELP_ENTRY ? "notice help" : "notice", event.text);
      break;
    case "bye":
      // The server closed us on purpose (quit, flood, timeout): no reconnect.
      state.wanted = false;
      if (!state.joined) $("form-error").textContent = event.text;
      line(event.error ? "error" : "notice", event.text);
      break;
    default:
      if (event.line) line("system", event.line);
  }
}

// ---- the conversation

const log = $("log");

function stamp(seconds) {
  const d = seconds ? new Date(seconds * 1000) : new Date();
  return d.toTimeString().slice(0, 8);
}

function hue(name) {
  // FNV-1a over the casefolded name: the same name, the same colour, everywhere.
  let h = 0x811c9dc5;
  for (const c of name.toLowerCase()) h = Math.imul(h ^ c.codePointAt(0), 0x01000193);
  return (h >>> 0) % 360;
}

function key(time, name, text) { return `${time}\u0000${name}\u0000${text}`; }

function remember(item, k) {
  item.dataset.key = k;
  state.seen.set(k, item);
}

function atBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 40; }

function append(item) {
  const stick = atBottom();
  log.append(item);
  while (log.childElementCount > 2000) {
    const old = log.firstElementChild;
    if (old.dataset.key) state.seen.delete(old.dataset.key);
    old.remove();
  }
  if (stick) log.scrollTop = log.scrollHeight;
  if (document.hidden) {
    state.unread += 1;
    document.title = `(${state.unread}) chatroom`;
  }
}

function span(cls, text) {
  const el = document.createElement("span");
  el.className = cls;
  el.textContent = text;
  return el;
}

function say(time, name, group, text, kind) {
  const item = document.createElement("li");
  item.className = `message ${kind}`.trim();
  const who = span("name", name);
  who.style.setProperty("--hue", hue(name));
  item.append(span("time", stamp(time)), who, span("group", group));
  if (kind.includes("private")) item.append(span("tag", t("private")));
  if (kind === "history") item.append(span("tag", t("history")));
  item.append(span("text", text));
  if (time) remember(item, key(time, name, text));
  append(item);
  return item;
}

function refused(item, why) {
  const stick = atBottom();
  item.classList.replace("pending", "refused");
  item.append(span("why", why));
  if (stick) log.scrollTop = log.scrollHeight;  // the reason may add a line
}

function unconfirmed() {
  // The connection went with lines unanswered: they may or may not have gone out.
  for (const item of state.pending) refused(item, t("unconfirmed"));
  state.pending = [];
}

function retryName(event) {
  // Our own ghost (a connection that dropped without a close) may still hold
  // the name: on a rejoin, ask again with backoff rather than give up.
  if (!state.everJoined || !state.wanted || event.message !== NAME_TAKEN) return false;
  if (!state.rejoinUntil) state.rejoinUntil = Date.now() + REJOIN_MS;
  if (Date.now() > state.rejoinUntil) return false;
  const ws = state.ws;
  const delay = Math.min(15, 2 ** state.rejoinTries) * 1000;
  state.rejoinTries += 1;
  state.blocked = true;   // the server's next prompt is answered by the timer
  status(t("rejoining", state.name));
  clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    if (state.ws !== ws || state.joined || ws.readyState !== WebSocket.OPEN) return;
    state.blocked = false;
    answer("name");
  }, delay);
  return true;
}

function line(kind, text, time) {
  if (!text) return;
  const item = document.createElement("li");
  item.className = kind;
  item.append(span("time", stamp(time)), span("text", text));
  append(item);
}

function count(online, max) {
  state.max = max;
  $("count").textContent = `${online}/${max}`;
}

function roster(members, online, max, ops) {
  const list = $("roster");
  list.replaceChildren(...members.map((m) => {
    const item = document.createElement("li");
    const who = span("name", m.name);
    who.style.setProperty("--hue", hue(m.name));
    item.append(who, span("group", m.group));
    if (ops.includes(m.name)) item.append(span("tag", "op"));
    if (m.name === state.name) item.classList.add("me");
    return item;
  }));
  count(online, max);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) { state.unread = 0; document.title = "chatroom"; }
});

// ---- the form

function fieldError(field, text) {
  $(`${field}-error`).textContent = text;
  $(field).setAttribute("aria-invalid", "true");
  $(field).focus();
}

function clearErrors() {
  for (const field of ["name", "group"]) {
    $(`${field}-error`).textContent = "";
    $(field).removeAttribute("aria-invalid");
  }
  $("form-error").textContent = "";
}

function showForm() {
  $("chat").hidden = true;
  $("join").hidden = false;
  $("name").value = state.name;
  $("group").value = state.group;
}

function showChat() {
  clearErrors();
  $("join").hidden = true;
  $("chat").hidden = false;
  $("line").focus();
}

$("form").addEventListener("submit", (e) => {
  e.preventDefault();
  clearErrors();
  state.name = $("name").value.trim();
  state.group = $("group").value.trim();
  if (!state.name) { fieldError("name", t("needed")); return; }
  if (!state.group) { fieldError("group", t("needed")); return; }
  state.wanted = true;
  state.blocked = false;
  state.attempt = 0;
  state.failures = 0;
  state.everJoined = false;
  if (state.ws && state.ws.readyState === WebSocket.OPEN && state.awaiting) {
    answer(state.awaiting);
  } else if (!state.ws) {
    state.sent = null;
    connect();
  }
});

// ---- the input line

function send(text) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN || !state.joined) return false;
  state.ws.send(text);
  if (!text.startsWith("/") || text.startsWith("//")) {
    const shown = text.startsWith("//") ? text.slice(1) : text;
    // Shown at once, dimmed until the server confirms it (public_sent) or
    // struck through with the reason if it refuses it (an error with "said").
    if (shown.trim()) state.pending.push(say(0, state.name, state.group, shown, "mine pending"));
  }
  return true;
}

$("say").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $("line");
  const text = input.value;
  if (!text.trim()) return;
  if (send(text)) {
    state.history.push(text);
    if (state.history.length > 100) state.history.shift();
    state.back = -1;
    input.value = "";
    log.scrollTop = log.scrollHeight;
  }
});

$("line").addEventListener("keydown", (e) => {
  const input = e.target;
  const h = state.history;
  if (e.key === "ArrowUp" && h.length) {
    if (state.back === -1) { state.draft = input.value; state.back = h.length; }
    state.back = Math.max(0, state.back - 1);
    input.value = h[state.back];
    e.preventDefault();
  } else if (e.key === "ArrowDown" && state.back !== -1) {
    state.back += 1;
    if (state.back >= h.length) { state.back = -1; input.value = state.draft; }
    else input.value = h[state.back];
    e.preventDefault();
  }
});

$("help").addEventListener("click", () => { send("/help"); $("line").focus(); });

applyLabels();
