// The sandbox page: polls /api/state and draws the chats; sends what people type and press.
"use strict";

let version = -1;
// The newest notice this page has seen; null until the first state says where it starts,
// so a toast shown before the page was opened is not shown again.
let lastNotice = null;
let generation = 0;

function person() {
  return document.querySelector('input[name="as"]:checked').value;
}

function personName() {
  return document.querySelector('input[name="as"]:checked').dataset.name;
}

// The typist's Telegram app language, which Telegram sends as language_code.
function language() {
  return document.getElementById("language").value;
}

// Over the chats' headers, or the top of the window once the page is scrolled past them.
function placeToasts() {
  const headers = document.querySelector(".chats").getBoundingClientRect().top;
  document.getElementById("toasts").style.top = Math.max(8, headers + 8) + "px";
}

function toast(text, alert) {
  const box = document.createElement("div");
  box.className = alert ? "toast alert" : "toast";
  box.textContent = text;
  box.addEventListener("click", () => box.remove());
  placeToasts();
  document.getElementById("toasts").append(box);
  if (!alert) setTimeout(() => box.remove(), 4000);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...body, lang: language() }),
  });
  const answer = await response.json();
  if (!response.ok) toast(answer.error || "refused", true);
  return response.ok ? answer : null;
}

function button(chat, message, spec) {
  let element;
  // The server sends web and tg addresses only; checked again where it becomes an href.
  if (spec.url !== undefined && /^(https?|tg):/i.test(spec.url)) {
    element = document.createElement("a");
    element.href = spec.url;
    element.target = "_blank";
    element.rel = "noopener";
  } else {
    element = document.createElement("button");
    element.type = "button";
    if (spec.callback !== undefined) {
      element.addEventListener("click", () =>
        post("/api/press", { as: person(), chat_id: chat.chat_id, message_id: message.id, data: spec.callback }));
    } else if (spec.share !== undefined) {
      element.addEventListener("click", () => pickChat(spec.share));
    } else if (spec.copy !== undefined) {
      element.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(spec.copy);
          toast("Copied: " + spec.copy, false);
        } catch (error) {
          toast("Copy this: " + spec.copy, true);
        }
      });
    }
  }
  element.className = "key";
  element.textContent = spec.text;
  return element;
}

function drawMessage(chat, message, list) {
  const item = document.createElement("li");
  item.className = "message" + (message.mine ? " mine" : "") + (message.bot ? " bot" : "");
  item.dataset.id = message.id;
  const sender = document.createElement("div");
  sender.className = "sender";
  sender.textContent = message.sender;
  if (message.via) {
    const via = document.createElement("span");
    via.className = "via";
    via.textContent = " " + message.via;
    sender.append(via);
  }
  item.append(sender);
  if (message.reply) {
    const quote = document.createElement("div");
    quote.className = "quote";
    const who = document.createElement("b");
    who.textContent = message.reply.sender;
    quote.append(who, document.createElement("br"), message.reply.text);
    item.append(quote);
  }
  if (message.photo) {
    const image = document.createElement("img");
    image.src = message.photo;
    image.alt = "photo";
    // The picture arrives after the message is drawn and makes it taller.
    image.addEventListener("load", () => keepAtBottom(list));
    item.append(image);
  }
  if (message.document) {
    const file = document.createElement("a");
    file.className = "document";
    file.href = message.document.url;
    file.download = message.document.name;
    file.textContent = "📄 " + message.document.name;
    item.append(file);
  }
  const body = document.createElement("div");
  body.className = "text";
  body.innerHTML = message.html; // sanitized by the server: Telegram's tags only
  item.append(body);
  const meta = document.createElement("div");
  meta.className = "meta";
  const reply = document.createElement("button");
  reply.type = "button";
  reply.className = "reply";
  reply.textContent = "↩ Reply";
  const words = body.textContent || (message.photo ? "Photo" : message.document?.name ?? "");
  reply.addEventListener("click", () => replyTo(list.closest(".chat"), message, words));
  meta.append(reply, (message.edited ? "edited " : "") + message.time);
  item.append(meta);
  for (const row of message.buttons) {
    const line = document.createElement("div");
    line.className = "keys";
    for (const spec of row) line.append(button(chat, message, spec));
    item.append(line);
  }
  return item;
}

// A chat that shows its newest message keeps showing it as messages and pictures come;
// one scrolled up to read stays where it is.
function watchScroll(list) {
  list.atBottom = true;
  list.addEventListener("scroll", () => {
    list.atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  });
  // Shorter, as when the reply bar opens above the input: the newest message stays in view.
  new ResizeObserver(() => keepAtBottom(list)).observe(list);
}

function keepAtBottom(list) {
  if (list.atBottom) list.scrollTop = list.scrollHeight;
}

function drawChat(chat) {
  const pane = document.querySelector(`.chat[data-chat="${chat.key}"]`);
  if (!pane) return;
  const list = pane.querySelector(".messages");
  const existing = new Map([...list.children].map((item) => [item.dataset.id, item]));
  let added = false;
  let changed = false;
  const wanted = new Set();
  for (const message of chat.messages) {
    const key = String(message.id);
    wanted.add(key);
    const drawn = JSON.stringify(message);
    const old = existing.get(key);
    if (old && old.dataset.drawn === drawn) continue;
    const item = drawMessage(chat, message, list);
    item.dataset.drawn = drawn;
    changed = true;
    if (old) {
      old.replaceWith(item); // an edit, in place
    } else {
      list.append(item);
      added = true;
    }
  }
  for (const [key, item] of existing) if (!wanted.has(key)) item.remove();
  if (pane.replyTo && !wanted.has(String(pane.replyTo))) clearReply(pane); // deleted
  if (added && chat.messages.at(-1)?.mine) list.atBottom = true;
  if (changed) keepAtBottom(list);
}

// Replying, as in Telegram: the message shown above the input until it is sent or cleared.
function replyTo(pane, message, words) {
  pane.replyTo = message.id;
  const bar = pane.querySelector(".replying");
  bar.querySelector(".quote b").textContent = message.sender;
  bar.querySelector(".quote span").textContent = words;
  bar.hidden = false;
  pane.querySelector(".compose input").focus();
}

function clearReply(pane) {
  pane.replyTo = undefined;
  pane.querySelector(".replying").hidden = true;
}

async function poll() {
  const mine = generation;
  while (mine === generation) {
    try {
      const query = new URLSearchParams({ as: person(), since: version });
      if (lastNotice !== null) query.set("notice", lastNotice);
      const response = await fetch("/api/state?" + query);
      if (mine !== generation) return;
      const state = await response.json();
      version = state.version;
      for (const chat of state.chats) drawChat(chat);
      if (lastNotice === null) lastNotice = state.last_notice;
      for (const notice of state.notices) {
        lastNotice = Math.max(lastNotice, notice.number);
        toast(notice.text, notice.alert);
      }
      document.body.classList.remove("offline");
    } catch (error) {
      document.body.classList.add("offline");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function restart() {
  generation += 1;
  version = -1;
  lastNotice = null;
  for (const list of document.querySelectorAll(".messages")) {
    list.replaceChildren();
    list.atBottom = true;
  }
  for (const pane of document.querySelectorAll(".chat")) clearReply(pane);
  for (const input of document.querySelectorAll(".compose input")) input.placeholder = "Message as " + personName();
  for (const pane of document.querySelectorAll(".chat")) closeResults(pane);
  poll();
}

// Inline mode: "@bot query" in an input asks the bot, as Telegram does, once typing pauses.
const mention = "@" + document.body.dataset.bot;
const INLINE_PAUSE = 350;

function inlineQuery(text) {
  if (text === mention) return "";
  return text.startsWith(mention + " ") ? text.slice(mention.length + 1) : null;
}

function closeResults(pane) {
  const list = pane.querySelector(".inline-results");
  list.hidden = true;
  list.replaceChildren();
}

function showResults(pane, answer) {
  const list = pane.querySelector(".inline-results");
  const input = pane.querySelector(".compose input");
  list.replaceChildren();
  if (answer.button) {
    const item = document.createElement("li");
    const start = document.createElement("button");
    start.type = "button";
    start.className = "inline-button";
    start.textContent = answer.button.text;
    // Telegram opens the chat with the bot and sends /start with the parameter.
    start.addEventListener("click", () => {
      input.value = "";
      closeResults(pane);
      post("/api/say", { as: person(), chat: "private", text: "/start " + answer.button.start });
    });
    item.append(start);
    list.append(item);
  }
  for (const result of answer.results) {
    const item = document.createElement("li");
    const choice = document.createElement("button");
    choice.type = "button";
    choice.className = "inline-result";
    choice.dataset.result = result.id;
    const title = document.createElement("b");
    title.textContent = result.title;
    const description = document.createElement("small");
    description.textContent = result.description;
    choice.append(title, document.createElement("br"), description);
    choice.addEventListener("click", async () => {
      input.value = "";
      closeResults(pane);
      const reply_to = pane.replyTo;
      clearReply(pane);
      await post("/api/choose", { as: person(), chat: pane.dataset.chat, result_id: result.id, reply_to });
    });
    item.append(choice);
    list.append(item);
  }
  list.hidden = list.children.length === 0;
}

function watchInline(form) {
  const pane = form.closest(".chat");
  const input = form.querySelector("input");
  let timer = null;
  let asked = 0;
  const ask = () => {
    clearTimeout(timer);
    const query = inlineQuery(input.value);
    if (query === null) {
      asked += 1; // an answer still on its way is no longer wanted
      closeResults(pane);
      return;
    }
    timer = setTimeout(async () => {
      const mine = ++asked;
      const answer = await post("/api/inline", { as: person(), chat: pane.dataset.chat, query });
      if (answer && mine === asked && inlineQuery(input.value) === query) showResults(pane, answer);
    }, INLINE_PAUSE);
  };
  input.addEventListener("input", ask);
  form.askInline = ask;
}

// The Share button: a chat picker, then "@bot <link id>" typed in the chosen chat.
function pickChat(share) {
  const picker = document.getElementById("picker");
  const targets = picker.querySelector(".targets");
  targets.replaceChildren();
  const allowed = { private: share.users, supergroup: share.groups, sender: share.bots };
  for (const pane of document.querySelectorAll(".chat")) {
    if (!allowed[pane.dataset.type]) continue;
    const target = document.createElement("button");
    target.type = "button";
    target.className = "target";
    target.dataset.chat = pane.dataset.chat;
    target.textContent = pane.dataset.title;
    target.addEventListener("click", () => {
      picker.close();
      const form = pane.querySelector(".compose");
      const input = form.querySelector("input");
      input.value = mention + " " + share.query;
      input.focus();
      form.askInline();
    });
    targets.append(target);
  }
  picker.showModal();
}

window.addEventListener("resize", placeToasts);
for (const list of document.querySelectorAll(".messages")) watchScroll(list);
for (const pane of document.querySelectorAll(".chat")) {
  pane.querySelector(".replying .unreply").addEventListener("click", () => clearReply(pane));
}
for (const form of document.querySelectorAll(".compose")) {
  const pane = form.closest(".chat");
  watchInline(form);
  form.querySelector("input").addEventListener("keydown", (event) => {
    if (event.key === "Escape") clearReply(pane);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.querySelector("input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    closeResults(pane);
    const reply_to = pane.replyTo;
    clearReply(pane);
    await post("/api/say", { as: person(), chat: pane.dataset.chat, text, reply_to });
  });
}
for (const radio of document.querySelectorAll('input[name="as"]')) radio.addEventListener("change", restart);
restart();
