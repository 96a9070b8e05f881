/*
 * newsqa chat widget: one <script> tag, no build step, no framework, no external loads.
 *
 *   <script src="https://host/widget.js" data-endpoint="https://host"
 *           data-title="Ask about this story" data-placeholder="e.g. Who won?" defer></script>
 *
 * Mounts into #newsqa-widget (or a new container at the end of <body>), loads widget.css
 * from the script's own origin, and talks to POST {endpoint}/v1/chat over Server-Sent Events.
 *
 * Everything the server sends (answer text, quotes, titles, urls) is data: it reaches the page
 * only through textContent, attribute values and a checked URL, never as markup.
 */
(function () {
  "use strict";

  var script = document.currentScript || findOwnScript();
  if (!script) return;

  var scriptUrl = new URL(script.src, document.baseURI);
  var config = {
    endpoint: (script.getAttribute("data-endpoint") || scriptUrl.origin).replace(/\/+$/, ""),
    title: script.getAttribute("data-title") || "Ask about this story",
    placeholder: script.getAttribute("data-placeholder") || "e.g. What changed in the latest update?",
    cssHref: new URL("widget.css", scriptUrl).href,
  };
  var MARKER = /\[(\d+)\]/;
  var PARTIAL_MARKER_TAIL = /\[\d*$/;
  // The server uses only the last few turns; sending more would only grow every request.
  var MAX_HISTORY_MESSAGES = 12;
  var idCounter = 0;

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }

  function findOwnScript() {
    var tags = document.querySelectorAll("script[src]");
    for (var i = tags.length - 1; i >= 0; i--) {
      if (/\/widget\.js(\?|#|$)/.test(tags[i].src)) return tags[i];
    }
    return null;
  }

  function start() {
    var mount = document.getElementById("newsqa-widget");
    if (!mount) {
      mount = el("div", { id: "newsqa-widget" });
      document.body.appendChild(mount);
    }
    if (mount.getAttribute("data-newsqa-mounted")) return;
    mount.setAttribute("data-newsqa-mounted", "1");
    var widget = createWidget(config);
    mount.appendChild(widget.root);
    loadStylesheet(config.cssHref, widget.root);
    document.addEventListener("newsqa:ask", function (event) {
      var question = event.detail && event.detail.question;
      if (typeof question === "string") widget.ask(question);
    });
  }

  /* ---------- DOM helpers ---------- */

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        if (name === "text") node.textContent = attrs[name];
        else if (name === "className") node.className = attrs[name];
        else node.setAttribute(name, attrs[name]);
      });
    }
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function nextId(prefix) {
    idCounter += 1;
    return "newsqa-" + prefix + "-" + idCounter;
  }

  function loadStylesheet(href, root) {
    // Keep the widget hidden until its stylesheet has loaded (or failed), to avoid a flash
    // of unstyled content; a <link> rather than inline styles keeps a strict CSP happy.
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) {
      if (links[i].href === href) return; // the page (or an earlier copy of us) already has it
    }
    var reveal = function () { root.hidden = false; };
    root.hidden = true;
    var link = el("link", { rel: "stylesheet", href: href });
    link.addEventListener("load", reveal);
    link.addEventListener("error", reveal);
    setTimeout(reveal, 3000);
    document.head.appendChild(link);
  }

  /* ---------- Server-Sent Events ---------- */

  // Minimal SSE parser (WHATWG "event stream interpretation"): handles \n, \r\n and \r line
  // endings split anywhere across chunks, multi-line data and comment lines.
  function createSseParser(onEvent) {
    var buffer = "";
    var eventType = "";
    var dataLines = [];

    function processLine(line) {
      if (line === "") {
        if (dataLines.length) onEvent(eventType || "message", dataLines.join("\n"));
        eventType = "";
        dataLines = [];
        return;
      }
      if (line.charAt(0) === ":") return;
      var colon = line.indexOf(":");
      var field = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.charAt(0) === " ") value = value.slice(1);
      if (field === "event") eventType = value;
      else if (field === "data") dataLines.push(value);
    }

    return function push(chunk) {
      buffer += chunk;
      var lineEnd = /\r\n|\r|\n/g;
      var start = 0;
      var match;
      while ((match = lineEnd.exec(buffer))) {
        // A trailing \r may be the first half of \r\n: wait for the next chunk.
        if (match[0] === "\r" && match.index === buffer.length - 1) break;
        processLine(buffer.slice(start, match.index));
        start = lineEnd.lastIndex;
      }
      buffer = buffer.slice(start);
    };
  }

  function readStream(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var push = createSseParser(onEvent);
    function pump() {
      return reader.read().then(function (result) {
        if (result.done) {
          push(decoder.decode());
          return;
        }
        push(decoder.decode(result.value, { stream: true }));
        return pump();
      });
    }
    return pump();
  }

  /* ---------- Formatting citations ---------- */

  var ISO_TIMESTAMP =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

  function pageLocale() {
    var lang = document.documentElement.getAttribute("lang");
    if (!lang) return undefined;
    try {
      return Intl.DateTimeFormat.supportedLocalesOf([lang]).length ? lang : undefined;
    } catch (e) {
      return undefined; // not a valid language tag: fall back to the browser's locale
    }
  }

  function formatOffset(raw) {
    if (!raw) return null;
    if (raw.toUpperCase() === "Z") return "+00:00";
    var digits = raw.replace(":", "");
    return digits.slice(0, 3) + ":" + digits.slice(3);
  }

  // Shows the wall-clock time as the source wrote it, in its own offset, in the page's locale.
  // A date-only timestamp never gains an invented time; a missing offset is said, not guessed.
  function formatTimestamp(timestamp, precision, zone) {
    var m = ISO_TIMESTAMP.exec(String(timestamp).trim());
    if (!m) return String(timestamp);
    var y = +m[1], mo = +m[2] - 1, d = +m[3];
    var dateOnly = precision === "date" || m[4] === undefined;
    var options = { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" };
    if (dateOnly) {
      return new Intl.DateTimeFormat(pageLocale(), options).format(new Date(Date.UTC(y, mo, d))) +
        " (date only)";
    }
    options.hour = "2-digit";
    options.minute = "2-digit";
    options.second = "2-digit";
    options.hourCycle = "h23";
    var wallClock = new Date(Date.UTC(y, mo, d, +m[4], +m[5], +(m[6] || 0)));
    var offset = formatOffset(m[7]);
    return new Intl.DateTimeFormat(pageLocale(), options).format(wallClock) +
      (offset && zone !== "assumed" ? " (" + offset + ")" : " (zone not stated)");
  }

  function timeVerb(citation) {
    return citation.section === "update" ? "Updated" : "Published";
  }

  function describeTime(citation) {
    if (!citation.timestamp) return null;
    return timeVerb(citation) + " " +
      formatTimestamp(citation.timestamp, citation.timestamp_precision, citation.timestamp_zone);
  }

  function safeHttpUrl(url) {
    if (typeof url !== "string" || !url) return null;
    try {
      var parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function chipLabel(marker, citation) {
    if (!citation) return "Citation " + marker;
    var label = "Citation " + marker + ": " + (citation.title || "untitled article");
    var time = describeTime(citation);
    if (time) label += ", " + time.charAt(0).toLowerCase() + time.slice(1);
    return label;
  }

  function buildSourcePanel(marker, citation, id) {
    var panel = el("div", {
      className: "newsqa-source",
      role: "region",
      id: id,
      "aria-label": "Source for citation " + marker,
    });
    if (!citation) {
      panel.appendChild(el("p", { text: "The source for this citation hasn't arrived yet." }));
      return panel;
    }
    panel.appendChild(el("blockquote", { className: "newsqa-quote", text: citation.quote || "" }));
    panel.appendChild(el("p", { className: "newsqa-source-title", text: citation.title || "Untitled article" }));
    var time = describeTime(citation);
    if (time) {
      panel.appendChild(el("p", { className: "newsqa-source-time" }, [
        el("time", { datetime: String(citation.timestamp), text: time }),
      ]));
    }
    var href = safeHttpUrl(citation.url);
    if (href) {
      panel.appendChild(el("p", { className: "newsqa-source-link" }, [
        el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: "Read the article" }),
      ]));
    }
    return panel;
  }

  /* ---------- One assistant answer ---------- */

  // Renders streamed text incrementally (so focus on an earlier chip survives new tokens),
  // holding back a possible half-marker such as "[1" until it is complete.
  function createAnswerView(messageEl) {
    var textEl = el("div", { className: "newsqa-answer-text", "aria-live": "polite" });
    var panelsEl = el("div", { className: "newsqa-sources" });
    messageEl.appendChild(textEl);
    messageEl.appendChild(panelsEl);

    var raw = "";
    var committed = 0;
    var citations = {};
    var chips = [];
    var open = null; // { chip, panel } of the one source panel shown

    function appendSegment(segment, chipsOnlyForKnown) {
      var parts = segment.split(MARKER);
      for (var i = 0; i < parts.length; i++) {
        if (i % 2 === 0) {
          if (parts[i]) textEl.appendChild(document.createTextNode(parts[i]));
        } else {
          var marker = Number(parts[i]);
          if (chipsOnlyForKnown && !citations[marker]) {
            textEl.appendChild(document.createTextNode("[" + parts[i] + "]"));
          } else {
            textEl.appendChild(makeChip(marker));
          }
        }
      }
    }

    function makeChip(marker) {
      var chip = el("button", {
        type: "button",
        className: "newsqa-chip",
        "aria-expanded": "false",
        "aria-label": chipLabel(marker, citations[marker]),
        text: String(marker),
      });
      chip.setAttribute("data-marker", String(marker));
      chip.addEventListener("click", function () { toggle(chip); });
      chip.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && open && open.chip === chip) closePanel();
      });
      chips.push(chip);
      return chip;
    }

    function markerOf(chip) {
      return Number(chip.getAttribute("data-marker"));
    }

    function toggle(chip) {
      var wasOpen = open && open.chip === chip;
      closePanel();
      if (wasOpen) return;
      var id = nextId("source");
      var panel = buildSourcePanel(markerOf(chip), citations[markerOf(chip)], id);
      panel.addEventListener("keydown", function (event) {
        if (event.key === "Escape") { closePanel(); chip.focus(); }
      });
      panelsEl.appendChild(panel);
      // The log scrolls: bring the opened source into its view, moving the page no more than needed.
      if (panel.scrollIntoView) panel.scrollIntoView({ block: "nearest" });
      chip.setAttribute("aria-expanded", "true");
      chip.setAttribute("aria-controls", id);
      open = { chip: chip, panel: panel };
    }

    function closePanel() {
      if (!open) return;
      open.chip.setAttribute("aria-expanded", "false");
      open.chip.removeAttribute("aria-controls");
      open.panel.remove();
      open = null;
    }

    function appendText(text) {
      raw += text;
      var pending = raw.slice(committed);
      var tail = PARTIAL_MARKER_TAIL.exec(pending);
      var ready = tail ? pending.slice(0, tail.index) : pending;
      if (!ready) return;
      appendSegment(ready, false);
      committed += ready.length;
    }

    function addCitation(citation) {
      var marker = Number(citation.marker);
      citations[marker] = citation;
      chips.forEach(function (chip) {
        if (markerOf(chip) === marker) chip.setAttribute("aria-label", chipLabel(marker, citation));
      });
      if (open && markerOf(open.chip) === marker) { // opened before its source arrived: refresh
        var chip = open.chip;
        closePanel();
        toggle(chip);
      }
    }

    // The done event is authoritative: rebuild from it, keeping focus and the open panel.
    function finish(answer, finalCitations) {
      var focusedIndex = chips.indexOf(document.activeElement);
      var openMarker = open ? markerOf(open.chip) : null;
      closePanel();
      citations = {};
      (finalCitations || []).forEach(function (c) { citations[Number(c.marker)] = c; });
      chips = [];
      textEl.textContent = "";
      raw = answer;
      committed = answer.length;
      appendSegment(answer, true);
      if (focusedIndex >= 0 && chips[focusedIndex]) chips[focusedIndex].focus();
      if (openMarker !== null) {
        var reopen = chips.filter(function (c) { return markerOf(c) === openMarker; })[0];
        if (reopen) toggle(reopen);
      }
    }

    // Flush a held-back half-marker as plain text (stream ended early).
    function flush() {
      if (committed < raw.length) {
        textEl.appendChild(document.createTextNode(raw.slice(committed)));
        committed = raw.length;
      }
    }

    function setBusy(busy) {
      textEl.setAttribute("aria-busy", busy ? "true" : "false");
    }

    return {
      textEl: textEl,
      setBusy: setBusy,
      appendText: appendText,
      addCitation: addCitation,
      finish: finish,
      flush: flush,
      hasText: function () { return raw.length > 0; },
    };
  }

  /* ---------- The widget ---------- */

  function createWidget(cfg) {
    var titleId = nextId("title");
    var inputId = nextId("input");
    var input = el("input", {
      id: inputId,
      className: "newsqa-input",
      type: "text",
      name: "question",
      autocomplete: "off",
      enterkeyhint: "send",
      placeholder: cfg.placeholder,
    });
    var send = el("button", { type: "submit", className: "newsqa-send", text: "Ask" });
    var stop = el("button", { type: "button", className: "newsqa-stop", text: "Stop", hidden: "" });
    var form = el("form", { className: "newsqa-form", novalidate: "" }, [
      el("label", { className: "newsqa-label", for: inputId, text: "Your question" }),
      el("div", { className: "newsqa-row" }, [input, send, stop]),
    ]);
    var status = el("p", { className: "newsqa-status", role: "status" });
    var log = el("ol", { className: "newsqa-log", "aria-label": "Conversation" });
    var root = el("section", { className: "newsqa", "aria-labelledby": titleId }, [
      el("h2", { className: "newsqa-title", id: titleId, text: cfg.title }),
      form,
      status,
      log,
    ]);

    var history = [];
    var conversationId = null;
    var controller = null;

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ask(input.value);
    });
    stop.addEventListener("click", function () {
      if (controller) controller.abort();
    });

    // Moves focus off a button before it is disabled or hidden, so keyboard users keep their place.
    function setBusy(busy) {
      var focused = document.activeElement;
      stop.hidden = !busy;
      if (busy && focused === send) stop.focus();
      if (!busy && focused === stop) input.focus();
      send.disabled = busy;
      status.textContent = busy ? "Working\u2026" : "";
      root.classList.toggle("newsqa-is-busy", busy);
    }

    function addMessage(kind) {
      var item = el("li", { className: "newsqa-msg newsqa-msg-" + kind });
      item.appendChild(el("p", { className: "newsqa-who", text: kind === "user" ? "You" : "newsqa" }));
      log.appendChild(item);
      return item;
    }

    // Follow new content only while the reader is at the end of the log.
    function following(update) {
      var atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
      update();
      if (atEnd) log.scrollTop = log.scrollHeight;
    }

    /* The window of publication times an answer used, as text: "Coverage from 2025-10-08
       18:30 +00:00 to now (you asked: since 6:30 PM)". Never markup. */
    function describeWindow(w) {
      if (!w || (!w.since && !w.as_of)) return "";
      var from = w.since ? stampText(w.since, 1) : "the start";
      var to = w.as_of ? stampText(w.as_of, 0) : "now";
      var asked = w.from_question ? " (you asked: " + String(w.from_question) + ")" : "";
      return "Coverage from " + from + " to " + to + asked;
    }

    function stampText(iso, nudgeMs) {
      var text = String(iso);
      var m = /([+-])(\d{2}):(\d{2})$|Z$/.exec(text);
      var ms = Date.parse(text);
      if (!m || isNaN(ms)) return text;
      var offset = m[1] ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
      var local = new Date(ms + nudgeMs + offset * 60000).toISOString();
      var shown = local.slice(0, 10) + " " + local.slice(11, 19).replace(/:00$/, "");
      return shown + " " + (m[1] ? m[0] : "+00:00");
    }

    function showNotice(messageEl, kind, text, before) {
      following(function () {
        messageEl.classList.add("newsqa-msg-" + kind);
        var notice = el("p", { className: "newsqa-notice newsqa-notice-" + kind, text: text });
        messageEl.insertBefore(notice, before || null);
      });
    }

    function ask(rawQuestion) {
      var question = String(rawQuestion || "").trim();
      if (!question || controller) return;
      input.value = "";
      var userEl = addMessage("user");
      userEl.appendChild(el("p", { className: "newsqa-question", text: question }));
      var answerEl = addMessage("assistant");
      var view = createAnswerView(answerEl);
      view.setBusy(true);
      log.scrollTop = log.scrollHeight;

      var turn = { question: question, answerEl: answerEl, view: view, finished: false, responded: false };
      var own = new AbortController();
      controller = own;
      setBusy(true);
      var messages = history.slice(-MAX_HISTORY_MESSAGES).concat([{ role: "user", content: question }]);
      request(messages, own.signal, turn)
        .catch(function (error) { reportFailure(turn, error); })
        .then(function () {
          own.abort(); // no-op after a complete stream; releases it after an error event
          view.flush();
          view.setBusy(false);
          controller = null;
          setBusy(false);
        });
    }

    function request(messages, signal, turn) {
      return fetch(cfg.endpoint + "/v1/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ messages: messages, conversation_id: conversationId, stream: true }),
        signal: signal,
      }).then(function (response) {
        if (!response.ok) return httpError(response).then(function (e) { throw e; });
        turn.responded = true;
        return readStream(response, function (type, data) { handleEvent(turn, type, data); })
          .then(function () {
            if (!turn.finished) {
              showNotice(turn.answerEl, "error", "The answer was cut off before it finished. Try asking again.");
            }
          });
      });
    }

    var HANDLED_EVENTS = ["meta", "token", "citation", "done", "error"];

    function handleEvent(turn, type, data) {
      if (turn.finished || HANDLED_EVENTS.indexOf(type) < 0) return; // ignore events we don't know
      var payload;
      try {
        payload = JSON.parse(data);
      } catch (e) {
        throw new WidgetError("The server sent a response the widget couldn't read.");
      }
      if (type === "meta") onMeta(turn, payload);
      else if (type === "token") following(function () { turn.view.appendText(String(payload.text || "")); });
      else if (type === "citation") turn.view.addCitation(payload);
      else if (type === "done") onDone(turn, payload);
      else if (type === "error") throw new WidgetError(detailText(payload) || "The server reported an error.");
    }

    function onMeta(turn, meta) {
      if (meta.conversation_id) conversationId = meta.conversation_id;
      showFollowsUp(turn, meta.follows_up);
    }

    // A follow-up says which earlier question it was read with (words the reader typed),
    // never the search words borrowed from it, which the reader did not type. The note says
    // what the server did: none when it answered the question as asked.
    function showFollowsUp(turn, followsUp) {
      var earlier = typeof followsUp === "string" ? followsUp.trim() : "";
      var text = earlier ? "Read as a follow-up to \u201c" + earlier + "\u201d" : "";
      var note = turn.answerEl.querySelector(".newsqa-resolved");
      if (note && note.textContent === text) return;
      if (note) note.remove();
      if (text) turn.answerEl.insertBefore(el("p", { className: "newsqa-resolved", text: text }), turn.view.textEl);
    }

    function onDone(turn, done) {
      turn.finished = true;
      if (done.conversation_id) conversationId = done.conversation_id;
      showFollowsUp(turn, done.follows_up);
      var answer = typeof done.answer === "string" ? done.answer : "";
      following(function () { turn.view.finish(answer, done.citations); });
      var windowText = describeWindow(done.window);
      if (windowText) {
        following(function () {
          turn.answerEl.appendChild(el("p", { className: "newsqa-window", text: windowText }));
        });
      }
      if (done.abstained) {
        showNotice(turn.answerEl, "abstained", "The coverage doesn't answer this.", turn.view.textEl);
      }
      history.push({ role: "user", content: turn.question });
      history.push({ role: "assistant", content: answer });
    }

    function reportFailure(turn, error) {
      turn.finished = true;
      var expected = error instanceof WidgetError || error instanceof TypeError ||
        (error && error.name === "AbortError"); // TypeError: fetch's network failure
      if (!expected) console.error("newsqa widget:", error);
      if (error && error.name === "AbortError") {
        showNotice(turn.answerEl, "stopped", turn.view.hasText() ? "Stopped." : "Stopped before an answer arrived.");
      } else if (error instanceof WidgetError) {
        showNotice(turn.answerEl, "error", error.message);
      } else if (turn.responded) {
        showNotice(turn.answerEl, "error", "The connection to the newsqa server at " + cfg.endpoint +
          " was lost before the answer finished. Try asking again.");
      } else {
        return explainUnreachable(turn); // the turn stays busy until the probe has told why
      }
    }

    // A fetch that fails with no response is the network, the server being down, or CORS; the
    // browser does not say which. An opaque no-cors request answers when the server is up but
    // refuses this page's origin, and fails as well when the server cannot be reached.
    function explainUnreachable(turn) {
      var unreachable = "Couldn't reach the newsqa server at " + cfg.endpoint +
        ". Check your connection and try again.";
      var endpointOrigin;
      try { endpointOrigin = new URL(cfg.endpoint, window.location.href).origin; } catch (e) { endpointOrigin = ""; }
      if (!endpointOrigin || endpointOrigin === window.location.origin) {
        showNotice(turn.answerEl, "error", unreachable);
        return;
      }
      return fetch(cfg.endpoint + "/healthz", { mode: "no-cors", cache: "no-store", credentials: "omit" })
        .then(function () {
          showNotice(turn.answerEl, "error", "The newsqa server at " + cfg.endpoint +
            " is up but does not allow this page's origin (" + window.location.origin +
            "). Its operator should add " + window.location.origin + " to NEWSQA_CORS_ORIGINS.");
        }, function () {
          showNotice(turn.answerEl, "error", unreachable);
        });
    }

    return { root: root, ask: ask };
  }

  /* ---------- Errors ---------- */

  function WidgetError(message) {
    this.name = "WidgetError";
    this.message = message;
  }
  WidgetError.prototype = Object.create(Error.prototype);

  // FastAPI sends {"detail": str} or, for validation errors, {"detail": [{"msg": ...}, ...]}.
  function detailText(body) {
    if (!body) return "";
    var detail = body.detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map(function (d) { return d && typeof d.msg === "string" ? d.msg : ""; })
        .filter(Boolean).join("; ");
    }
    return "";
  }

  function httpError(response) {
    if (response.status === 429) {
      return Promise.resolve(new WidgetError("Too many questions right now \u2014 wait a moment and try again."));
    }
    return response.text().then(function (text) {
      var detail = "";
      try { detail = detailText(JSON.parse(text)); } catch (e) { detail = ""; }
      return new WidgetError(detail || "The server answered with an error (HTTP " + response.status + ").");
    }, function () {
      return new WidgetError("The server answered with an error (HTTP " + response.status + ").");
    });
  }
})();
