// The device token that the upload page, the live map and the review queue share: kept in this
// browser, sent as a bearer token, and asked for in the page's #token-dialog (map and review)
// when there is none or the API refuses it. A classic script: the pages use `deviceToken`.
"use strict";
window.deviceToken = (function () {
  const KEY = "ingest_api.token";

  function kept() {
    return localStorage.getItem(KEY);
  }

  function keep(token) {
    localStorage.setItem(KEY, token.trim());
  }

  // The Authorization header of `token`, by default the kept one.
  function header(token = kept()) {
    return { Authorization: "Bearer " + token };
  }

  // fetch() with the kept token added to the request's headers.
  function send(url, options = {}) {
    return fetch(url, { ...options, headers: { ...header(), ...(options.headers || {}) } });
  }

  // An answer's JSON, or a message about its status when it has none (a proxy's HTML page).
  async function answerOf(response) {
    try {
      return await response.json();
    } catch (error) {
      return { message: "the server answered " + response.status };
    }
  }

  // Ask for a token in #token-dialog, then call `then`; `refusal` is why the last one was
  // refused, in the API's words. Another dialog open in the page is closed first.
  function ask(refusal, then) {
    const dialog = document.getElementById("token-dialog");
    const said = document.getElementById("token-refused");
    said.hidden = !refusal;
    said.textContent = refusal ? "That token was refused: " + refusal : "";
    if (dialog.open) return;
    document.querySelectorAll("dialog[open]").forEach((other) => other.close());
    const input = dialog.querySelector("input");
    input.value = "";
    dialog.showModal();
    dialog.addEventListener("close", function () {
      keep(input.value);
      then();
    }, { once: true });
  }

  // On a 401 or 403 the token is forgotten and asked for again, saying why: true then.
  function refused(response, answer, then) {
    if (response.status !== 401 && response.status !== 403) return false;
    localStorage.removeItem(KEY);
    ask(answer.message, then);
    return true;
  }

  return { kept, keep, header, send, answerOf, ask, refused };
})();
