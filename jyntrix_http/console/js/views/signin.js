// Sign-in: paste a bearer token, or (in development on a loopback bind) mint one for a user id.

import { api, setToken, signOut } from "../api.js";
import { card, field, form, h } from "../dom.js";

async function tryToken(value, ctx) {
  setToken(value);
  try {
    await api("GET", "/api/auth/me");
  } catch (error) {
    signOut();
    throw error;
  }
  ctx.signedIn();
}

export async function render(root, ctx) {
  const config = await api("GET", "/api/console/config");
  const tokenInput = h("textarea", {
    id: "token-input",
    rows: 4,
    spellcheck: "false",
    autocomplete: "off",
    placeholder: "eyJhbGciOi…",
  });
  const pasteForm = form(
    { id: "token-form" },
    () => {
      if (!tokenInput.value.trim()) return ctx.flash("Paste a token first.");
      tryToken(tokenInput.value, ctx).catch((error) => ctx.flash(error.message));
    },
    field("Bearer token", tokenInput, "A Supabase access token, or one from `jyntrix token --user ID`."),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );

  const parts = [
    h("h1", {}, "Sign in"),
    h(
      "p",
      { class: "muted" },
      "The token stays in this browser tab (sessionStorage) and is sent only as the Authorization header.",
    ),
    card("Paste a token", pasteForm),
  ];

  if (config.dev_tokens) {
    const userInput = h("input", { id: "dev-user", type: "text", value: "dev-user", autocomplete: "off" });
    parts.push(
      card(
        "Development token",
        h("p", { class: "muted" }, "This server runs in development on a loopback address, so it can mint a token."),
        form(
          { id: "dev-form", class: "inline" },
          () => {
            api("POST", "/api/console/dev-token", { user_id: userInput.value.trim() })
              .then((minted) => tryToken(minted.token, ctx))
              .catch((error) => ctx.flash(error.message));
          },
          field("User id", userInput),
          h("button", { type: "submit", id: "dev-token", class: "secondary" }, "Mint a development token"),
        ),
      ),
    );
  }
  root.append(h("div", { class: "narrow" }, parts));
}
