// The console's shell: hash routes to views, the signed-in user in the top bar, errors in one banner.

import { api, signOut, token } from "./api.js";
import { clear, h } from "./dom.js";
import * as analytics from "./views/analytics.js";
import * as chat from "./views/chat.js";
import * as conversation from "./views/conversation.js";
import * as forget from "./views/forget.js";
import * as memories from "./views/memories.js";
import * as memory from "./views/memory.js";
import * as search from "./views/search.js";
import * as signin from "./views/signin.js";

const ROUTES = {
  signin: { view: signin, section: null, title: "Sign in" },
  memories: { view: memories, section: "memories", title: "Memories" },
  memory: { view: memory, section: "memories", title: "Memory" },
  conversation: { view: conversation, section: "memories", title: "Conversation" },
  search: { view: search, section: "search", title: "Search" },
  chat: { view: chat, section: "chat", title: "Chat playground" },
  analytics: { view: analytics, section: "analytics", title: "Analytics" },
  forget: { view: forget, section: "forget", title: "Forget me" },
};

const view = document.getElementById("view");
const flashBox = document.getElementById("flash");
let me = null;
let rendering = 0;

/** Shows an error (or a notice) above the view; text only. */
export function flash(message, kind = "error") {
  flashBox.textContent = message;
  flashBox.className = `flash ${kind}`;
  flashBox.hidden = !message;
}

export function navigate(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function parse() {
  const [name, ...rest] = window.location.hash.replace(/^#\/?/, "").split("/");
  return { name: name || "memories", params: rest.map((part) => decodeURIComponent(part)) };
}

async function whoAmI() {
  if (!token()) return null;
  if (me) return me;
  try {
    me = await api("GET", "/api/auth/me");
  } catch {
    me = null;
  }
  return me;
}

function shell(user, section) {
  document.getElementById("nav").hidden = !user;
  document.getElementById("sign-out").hidden = !user;
  const who = document.getElementById("who");
  clear(who);
  // On a phone only the id shows; the words around it are for wider screens (and for screen readers).
  if (user) who.append(h("span", { class: "who-label" }, "signed in as "), h("span", { class: "who-id" }, user.id));
  who.title = user ? user.id : "";
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.section === section);
  }
}

async function route() {
  const ticket = ++rendering;
  flash("");
  let { name, params } = parse();
  const user = await whoAmI();
  if (ticket !== rendering) return;
  if (!user && name !== "signin") {
    if (token()) flash("The saved token was refused; sign in again.");
    name = "signin";
    params = [];
  }
  const entry = ROUTES[name] || ROUTES.memories;
  shell(user, entry.section);
  document.title = `${entry.title} · Jyntrix console`;
  const root = h("div", { class: "page", dataset: { view: name } });
  clear(view).append(root);
  try {
    await entry.view.render(root, { params, user, flash, navigate, signedIn: onSignedIn });
  } catch (error) {
    if (ticket === rendering) flash(error.message || String(error));
  }
}

function onSignedIn() {
  me = null;
  navigate("#/memories");
}

document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  me = null;
  navigate("#/signin");
});

window.addEventListener("jyntrix:unauthorized", () => {
  me = null;
});
window.addEventListener("hashchange", route);
route();
