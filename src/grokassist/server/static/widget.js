/*! grokassist support widget: one <script> tag, no framework.
 *
 *   <script src="https://help-api.example.com/widget.js"
 *           data-api="https://help-api.example.com"   (default: where this script came from)
 *           data-title="Help"                         (panel title)
 *           data-greeting="Hi! Ask me anything."      (first message)
 *           data-metadata='{"plan": "pro"}'           (for the ticket, if a person takes over)
 *           data-lang="es"                            (the widget's language; default: the browser's)
 *           defer></script>
 *
 * The page's origin must be in the server's CORS allow-list (GROKASSIST_SERVER_CORS_ORIGINS).
 * Theme with CSS custom properties on the page: --grokassist-accent, --grokassist-font.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__grokassistWidget) return;
  window.__grokassistWidget = true;

  // -- the widget's own words, in the customer's language ----------------------------------
  // data-lang="es" chooses one; otherwise the browser's preferred languages (navigator.languages)
  // decide, then English. The assistant's answers follow the language of each question; the
  // browser's language goes with every question as a hint for the ones too short to tell.
  var MESSAGES = {
    en: {
      title: "Help",
      greeting: "Hi! Ask me a question about our products and services.",
      open: "Open help chat",
      close: "Close help chat",
      conversation: "Conversation",
      placeholder: "Ask a question…",
      yourQuestion: "Your question",
      send: "Send question",
      human: "Talk to a human",
      contact: "How can we reach you? (email or phone)",
      reason: "Anything to add? (optional)",
      sendHuman: "Send to a human",
      cancel: "Cancel",
      youSaid: "You said: ",
      assistant: "Assistant: ",
      team: "Support team",
      teamSuffix: " · support team",
      agent: "Support agent (a person), {name}: ",
      source: "Source {n}: {title}",
      sources: "Sources",
      live: "live",
      unverified: "community · unverified",
      handedOff: "I've passed this conversation to a person from our support team; they will reply here.",
      replied: "{name} replied.",
      closed: "The support team has closed this request. You're chatting with the assistant again.",
      backToAssistant: "You're chatting with the assistant again.",
      helpful: "Was this helpful?",
      yes: "Yes",
      no: "No",
      thanks: "Thanks for your feedback!",
      missing: "What was missing? (optional)",
      sendShort: "Send",
      tooFast: "You're sending questions too quickly. Please wait {seconds} seconds and try again.",
      aFew: "a few",
      failed: "Sorry, something went wrong{detail} Please try again.",
      answering: "The assistant is answering…",
      dontKnow: "The assistant doesn't know the answer.",
      answered: "The assistant answered.",
      humanReason: "The customer asked for a human.",
    },
    id: {
      title: "Bantuan",
      greeting: "Halo! Tanyakan apa saja tentang produk dan layanan kami.",
      open: "Buka obrolan bantuan",
      close: "Tutup obrolan bantuan",
      conversation: "Percakapan",
      placeholder: "Ajukan pertanyaan…",
      yourQuestion: "Pertanyaan Anda",
      send: "Kirim pertanyaan",
      human: "Bicara dengan manusia",
      contact: "Bagaimana kami dapat menghubungi Anda? (email atau telepon)",
      reason: "Ada yang ingin ditambahkan? (opsional)",
      sendHuman: "Kirim ke petugas",
      cancel: "Batal",
      youSaid: "Anda menulis: ",
      assistant: "Asisten: ",
      team: "Tim dukungan",
      teamSuffix: " · tim dukungan",
      agent: "Petugas dukungan (manusia), {name}: ",
      source: "Sumber {n}: {title}",
      sources: "Sumber",
      live: "langsung",
      unverified: "komunitas · belum diverifikasi",
      handedOff: "Saya telah meneruskan percakapan ini kepada petugas tim dukungan kami; mereka akan membalas di sini.",
      replied: "{name} membalas.",
      closed: "Tim dukungan telah menutup permintaan ini. Anda kembali mengobrol dengan asisten.",
      backToAssistant: "Anda kembali mengobrol dengan asisten.",
      helpful: "Apakah ini membantu?",
      yes: "Ya",
      no: "Tidak",
      thanks: "Terima kasih atas masukan Anda!",
      missing: "Apa yang kurang? (opsional)",
      sendShort: "Kirim",
      tooFast: "Anda mengirim pertanyaan terlalu cepat. Tunggu {seconds} detik lalu coba lagi.",
      aFew: "beberapa",
      failed: "Maaf, terjadi kesalahan{detail} Silakan coba lagi.",
      answering: "Asisten sedang menjawab…",
      dontKnow: "Asisten tidak tahu jawabannya.",
      answered: "Asisten sudah menjawab.",
      humanReason: "Pelanggan meminta bantuan petugas.",
    },
    es: {
      title: "Ayuda",
      greeting: "¡Hola! Pregúntame lo que quieras sobre nuestros productos y servicios.",
      open: "Abrir el chat de ayuda",
      close: "Cerrar el chat de ayuda",
      conversation: "Conversación",
      placeholder: "Escribe tu pregunta…",
      yourQuestion: "Tu pregunta",
      send: "Enviar pregunta",
      human: "Hablar con una persona",
      contact: "¿Cómo podemos contactarte? (correo o teléfono)",
      reason: "¿Algo que añadir? (opcional)",
      sendHuman: "Enviar a una persona",
      cancel: "Cancelar",
      youSaid: "Dijiste: ",
      assistant: "Asistente: ",
      team: "Equipo de soporte",
      teamSuffix: " · equipo de soporte",
      agent: "Agente de soporte (una persona), {name}: ",
      source: "Fuente {n}: {title}",
      sources: "Fuentes",
      live: "en vivo",
      unverified: "comunidad · sin verificar",
      handedOff: "He pasado esta conversación a una persona de nuestro equipo de soporte; te responderá aquí.",
      replied: "{name} respondió.",
      closed: "El equipo de soporte ha cerrado esta solicitud. Vuelves a hablar con el asistente.",
      backToAssistant: "Vuelves a hablar con el asistente.",
      helpful: "¿Te ha sido útil?",
      yes: "Sí",
      no: "No",
      thanks: "¡Gracias por tu opinión!",
      missing: "¿Qué faltó? (opcional)",
      sendShort: "Enviar",
      tooFast: "Estás enviando preguntas demasiado rápido. Espera {seconds} segundos y vuelve a intentarlo.",
      aFew: "unos",
      failed: "Lo siento, algo salió mal{detail} Vuelve a intentarlo.",
      answering: "El asistente está respondiendo…",
      dontKnow: "El asistente no sabe la respuesta.",
      answered: "El asistente ha respondido.",
      humanReason: "El cliente pidió hablar con una persona.",
    },
  };

  function pickLanguage() {
    var wanted = [script.getAttribute("data-lang")].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").toLowerCase().split(/[-_]/)[0];
      if (MESSAGES[code]) return code;
    }
    return "en";
  }
  var LANG = pickLanguage();
  // The customer's language for the server: the page's choice or the browser's first preference.
  var LANG_HINT = String(script.getAttribute("data-lang") || (navigator.languages || [])[0] || navigator.language || LANG);
  if (!/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/.test(LANG_HINT)) LANG_HINT = LANG;

  function t(key, values) {
    var text = (MESSAGES[LANG] && MESSAGES[LANG][key]) || MESSAGES.en[key];
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(values[name]);
    });
    return text;
  }

  var scriptUrl = new URL(script.src, location.href);
  var API = (script.getAttribute("data-api") || scriptUrl.origin).replace(/\/+$/, "");
  var TITLE = script.getAttribute("data-title") || t("title");
  var GREETING = script.getAttribute("data-greeting") || t("greeting");
  var CSS_URL = script.getAttribute("data-css") || new URL("widget.css", scriptUrl).href;
  var STORE_KEY = "grokassist-session:" + API;
  // What the host product knows of the customer (plan, device, locale...), for the ticket if
  // the conversation goes to a person: data-metadata='{"plan": "pro"}'.
  var METADATA = null;
  try {
    METADATA = JSON.parse(script.getAttribute("data-metadata") || "null");
  } catch (e) {
    METADATA = null;
  }

  var state = { sessionId: null, lastAnswerId: null, busy: false, restored: false, handoff: null, agentSeen: {} };
  // While a person from the support team has the conversation, its history is read this often
  // for their replies.
  var POLL_MS = Number(script.getAttribute("data-poll-ms")) || 2000;
  var pollTimer = null;

  // -- DOM helpers -----------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value === null || value === undefined) return;
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function icon(path) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", path);
    svg.appendChild(p);
    return svg;
  }

  // -- the shell -------------------------------------------------------------------------

  var host = el("div", { class: "grokassist-widget", "data-grokassist": "" });
  var root = host.attachShadow({ mode: "open" });
  var ready = new Promise(function (resolve) {
    var link = el("link", { rel: "stylesheet", href: CSS_URL, onload: resolve, onerror: resolve });
    root.appendChild(link);
  });

  var launcher = el(
    "button",
    {
      type: "button",
      class: "launcher",
      "aria-haspopup": "dialog",
      "aria-expanded": "false",
      "aria-controls": "ga-panel",
      "aria-label": t("open"),
    },
    [icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z")]
  );

  var log = el("div", {
    class: "log",
    role: "log",
    "aria-live": "polite",
    "aria-label": t("conversation"),
    tabindex: "0",
  });
  var status = el("p", { class: "sr-only", role: "status", "aria-live": "polite" });
  var input = el("textarea", {
    id: "ga-input",
    rows: "1",
    maxlength: "2000",
    placeholder: t("placeholder"),
    "aria-label": t("yourQuestion"),
    autocomplete: "off",
  });
  var send = el("button", { type: "submit", class: "send", "aria-label": t("send") }, [
    icon("M3 20l18-8L3 4v6l12 2-12 2z"),
  ]);
  var form = el("form", { class: "ask", onsubmit: onAsk }, [input, send]);

  var contact = el("input", { id: "ga-contact", type: "text", autocomplete: "email", maxlength: "320" });
  var reason = el("textarea", { id: "ga-reason", rows: "2", maxlength: "2000" });
  var escalateForm = el("form", { class: "escalate", hidden: true, onsubmit: onEscalate, "aria-label": t("human") }, [
    el("p", { text: "A person from our support team will read this conversation and get back to you." }),
    el("label", { for: "ga-contact", text: t("contact") }),
    contact,
    el("label", { for: "ga-reason", text: t("reason") }),
    reason,
    el("div", { class: "row" }, [
      el("button", { type: "submit", class: "primary", text: t("sendHuman") }),
      el("button", { type: "button", class: "secondary", text: t("cancel"), onclick: closeEscalate }),
    ]),
  ]);

  var humanButton = el("button", { type: "button", class: "human", text: t("human"), onclick: openEscalate });
  var closeButton = el("button", { type: "button", class: "close", "aria-label": t("close"), onclick: close }, [
    icon("M6 6l12 12M18 6L6 18"),
  ]);
  var panel = el(
    "section",
    { id: "ga-panel", class: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "ga-title", hidden: true },
    [
      el("header", {}, [el("h2", { id: "ga-title", text: TITLE }), humanButton, closeButton]),
      log,
      escalateForm,
      form,
      status,
    ]
  );

  root.appendChild(launcher);
  root.appendChild(panel);
  launcher.addEventListener("click", function () {
    panel.hidden ? open() : close();
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  ready.then(function () {
    host.setAttribute("data-ready", "");
  });
  (document.body || document.documentElement).appendChild(host);

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", t("close"));
    if (!log.childNodes.length) {
      addMessage("bot", GREETING);
      restore();
    }
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", t("open"));
    launcher.focus();
  }

  function announce(text) {
    status.textContent = text;
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  // -- messages --------------------------------------------------------------------------

  function addMessage(who, text) {
    var body = el("p", { class: "text", text: text });
    var msg = el("div", { class: "msg " + who }, [
      el("span", { class: "sr-only", text: who === "user" ? t("youSaid") : t("assistant") }),
      body,
    ]);
    log.appendChild(msg);
    scrollDown();
    return { node: msg, body: body };
  }

  // A reply written by a person of the support team (through the ticketing system).
  function addAgentMessage(author, text) {
    var name = author || t("team");
    var msg = el("div", { class: "msg agent", "data-author": name }, [
      el("span", { class: "sr-only", text: t("agent", { name: name }) }),
      el("p", { class: "who", "aria-hidden": "true", text: name + t("teamSuffix") }),
      el("p", { class: "text", text: text }),
    ]);
    log.appendChild(msg);
    scrollDown();
    return msg;
  }

  // A line about the conversation itself (handed to a person, back to the assistant).
  function addNotice(text) {
    var msg = el("div", { class: "msg notice" }, [el("p", { class: "text", text: text })]);
    log.appendChild(msg);
    scrollDown();
    return msg;
  }

  // A report of community posts ("Some customers report ...") is never a fact: the server
  // writes it on a line of its own, and the widget marks that line.
  var COMMUNITY_PREFIX = "Some customers report";

  // "14:02 UTC" from a live source's fetch time.
  function clockTime(iso) {
    var when = new Date(iso);
    if (isNaN(when.getTime())) return "";
    var pad = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    return pad(when.getUTCHours()) + ":" + pad(when.getUTCMinutes()) + " UTC";
  }

  // The badge of a source's trust tier: "live · 14:02 UTC", "community · unverified".
  function tierBadge(c) {
    if (c.tier === "live") {
      var at = c.as_of ? clockTime(c.as_of) : "";
      return el("span", { class: "badge live", text: at ? t("live") + " · " + at : t("live") });
    }
    if (c.tier === "community") {
      return el("span", { class: "badge community", text: t("unverified") });
    }
    return null;
  }

  // Replace "[n]" markers with links to the cited sources, in one line of the answer.
  function renderLine(parent, text, byIndex) {
    var re = /\[(\d{1,2})\]/g;
    var last = 0;
    var match;
    while ((match = re.exec(text))) {
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var cite = byIndex[Number(match[1])];
      if (cite) {
        var label = t("source", { n: cite.index, title: cite.title });
        parent.appendChild(
          cite.url
            ? el("a", {
                class: "ref " + (cite.tier || "official"),
                href: cite.url,
                target: "_blank",
                rel: "noopener",
                "aria-label": label,
                text: "[" + cite.index + "]",
              })
            : el("span", { class: "ref " + (cite.tier || "official"), "aria-label": label, text: "[" + cite.index + "]" })
        );
      }
      last = re.lastIndex;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderAnswerText(body, text, citations) {
    var byIndex = {};
    citations.forEach(function (c) {
      byIndex[c.index] = c;
    });
    body.textContent = "";
    text.split("\n").forEach(function (line, i) {
      if (i) body.appendChild(document.createTextNode("\n"));
      if (line.indexOf(COMMUNITY_PREFIX) === 0) {
        var report = el("span", { class: "community-report", role: "note" });
        renderLine(report, line, byIndex);
        body.appendChild(report);
      } else {
        renderLine(body, line, byIndex);
      }
    });
  }

  function handoffOf(answer) {
    var found = null;
    answer.actions.forEach(function (a) {
      if (a.type === "handed_off") found = a.params;
    });
    return found;
  }

  function renderAnswer(msg, answer) {
    var handoff = handoffOf(answer);
    if (handoff && handoff.answered === false) {
      // the assistant did not answer: a person has (or now gets) the conversation
      msg.node.className = "msg notice";
      msg.body.textContent = answer.text;
      startHandoff(handoff.escalation_id);
      return;
    }
    msg.node.setAttribute("data-answer-id", answer.answer_id);
    renderAnswerText(msg.body, answer.text, answer.citations);
    if (answer.citations.length) {
      var list = el("ol", { class: "sources", "aria-label": t("sources") });
      answer.citations.forEach(function (c) {
        var title = c.url
          ? el("a", { href: c.url, target: "_blank", rel: "noopener", text: c.title })
          : el("span", { text: c.title });
        list.appendChild(el("li", { value: String(c.index), class: c.tier || "official" }, [title, tierBadge(c)]));
      });
      msg.node.appendChild(list);
    }
    var offersHuman = !handoff && answer.actions.some(function (a) {
      return a.type === "offer_human";
    });
    if (answer.abstained) msg.node.classList.add("abstained");
    if (offersHuman) {
      msg.node.appendChild(
        el("button", { type: "button", class: "secondary offer", text: t("human"), onclick: openEscalate })
      );
    }
    if (!answer.abstained) msg.node.appendChild(feedbackBox(answer.answer_id));
    if (handoff) {
      addNotice(t("handedOff"));
      startHandoff(handoff.escalation_id);
    }
  }

  // -- a person has the conversation: show their replies as they come ---------------------

  function startHandoff(escalationId) {
    state.handoff = escalationId;
    host.setAttribute("data-handoff", escalationId);
    if (!pollTimer) pollTimer = setInterval(poll, POLL_MS);
  }

  function endHandoff() {
    state.handoff = null;
    host.removeAttribute("data-handoff");
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  // Show the support team's replies in a history not shown yet (counted per author and text,
  // so a history trimmed at the front shows nothing twice).
  function showAgentReplies(messages, announceThem) {
    var counts = {};
    messages.forEach(function (m) {
      if (!m.human) return;
      var key = (m.author || "") + "\n" + m.content;
      counts[key] = (counts[key] || 0) + 1;
      if (counts[key] > (state.agentSeen[key] || 0)) {
        state.agentSeen[key] = counts[key];
        addAgentMessage(m.author, m.content);
        if (announceThem) announce(t("replied", { name: m.author || t("team") }));
      }
    });
  }

  function poll() {
    if (!state.sessionId || state.busy) return;
    request("GET", "/v1/sessions/" + encodeURIComponent(state.sessionId))
      .then(function (history) {
        showAgentReplies(history.messages, true);
        if (!history.handoff && state.handoff) {
          endHandoff();
          addNotice(t("closed"));
          announce(t("backToAssistant"));
        }
      })
      .catch(function (err) {
        if (err.status === 404) endHandoff();
      });
  }

  function feedbackBox(answerId) {
    var box = el("div", { class: "feedback", role: "group", "aria-label": t("helpful") });
    var yes = el("button", { type: "button", "aria-pressed": "false", text: t("yes"), onclick: rate(true) });
    var no = el("button", { type: "button", "aria-pressed": "false", text: t("no"), onclick: rate(false) });
    box.appendChild(el("span", { text: t("helpful") }));
    box.appendChild(yes);
    box.appendChild(no);

    function rate(helpful) {
      return function () {
        yes.setAttribute("aria-pressed", String(helpful));
        no.setAttribute("aria-pressed", String(!helpful));
        submit(helpful, "").then(function () {
          if (helpful) thank();
          else askWhy();
        });
      };
    }

    function submit(helpful, comment) {
      return request("POST", "/v1/feedback", { answer_id: answerId, helpful: helpful, comment: comment }).catch(
        function (err) {
          announce(err.message);
        }
      );
    }

    function thank() {
      box.textContent = "";
      box.appendChild(el("span", { class: "thanks", text: t("thanks") }));
      announce(t("thanks"));
    }

    function askWhy() {
      var why = el("input", { type: "text", maxlength: "2000", "aria-label": t("missing"), placeholder: t("missing") });
      var sendWhy = el("form", {
        class: "why",
        onsubmit: function (event) {
          event.preventDefault();
          submit(false, why.value.trim()).then(thank);
        },
      }, [why, el("button", { type: "submit", class: "secondary", text: t("sendShort") })]);
      box.textContent = "";
      box.appendChild(sendWhy);
      why.focus();
    }

    return box;
  }

  // -- talking to the server -------------------------------------------------------------

  function errorMessage(status, body, retryAfter) {
    if (status === 429) {
      return t("tooFast", { seconds: retryAfter || t("aFew") });
    }
    var detail = body && body.error && body.error.message;
    if (status === 404 && body && body.error && body.error.type === "session_not_found") return "session_not_found";
    return t("failed", { detail: detail ? ": " + detail : "." });
  }

  function httpError(res) {
    return res
      .json()
      .catch(function () {
        return null;
      })
      .then(function (body) {
        var err = new Error(errorMessage(res.status, body, res.headers.get("Retry-After")));
        err.status = res.status;
        throw err;
      });
  }

  function request(method, path, body) {
    return fetch(API + path, {
      method: method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (res) {
      if (!res.ok) return httpError(res);
      return res.status === 204 ? null : res.json();
    });
  }

  // POST and read server-sent events: onEvent(name, data) for each one.
  async function stream(path, body, onEvent) {
    var res = await fetch(API + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
    });
    if (!res.ok) return httpError(res);
    var reader = res.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var boundary;
      while ((boundary = buffer.search(/\r?\n\r?\n/)) >= 0) {
        var block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
        var name = "message";
        var data = [];
        block.split(/\r?\n/).forEach(function (line) {
          if (line.indexOf("event:") === 0) name = line.slice(6).trim();
          else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
        });
        if (data.length) onEvent(name, JSON.parse(data.join("\n")));
      }
    }
  }

  function remember(sessionId) {
    state.sessionId = sessionId;
    try {
      sessionStorage.setItem(STORE_KEY, sessionId);
    } catch (e) {
      /* storage may be blocked: the session lives as long as the page */
    }
  }

  function forget() {
    state.sessionId = null;
    try {
      sessionStorage.removeItem(STORE_KEY);
    } catch (e) {
      /* ignore */
    }
  }

  // Show the conversation again after a page change (same tab).
  function restore() {
    var saved = null;
    try {
      saved = sessionStorage.getItem(STORE_KEY);
    } catch (e) {
      saved = null;
    }
    if (!saved) return;
    request("GET", "/v1/sessions/" + encodeURIComponent(saved))
      .then(function (history) {
        state.sessionId = saved;
        history.messages.forEach(function (m) {
          if (m.human) showAgentReplies([m], false);
          else addMessage(m.role === "user" ? "user" : "bot", m.content);
        });
        if (history.handoff) startHandoff(history.handoff.escalation_id);
      })
      .catch(forget);
  }

  async function onAsk(event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question || state.busy) return;
    state.busy = true;
    send.disabled = true;
    input.value = "";
    addMessage("user", question);
    var msg = addMessage("bot", "");
    msg.node.setAttribute("aria-busy", "true");
    msg.node.classList.add("streaming");
    var text = "";
    announce(t("answering"));
    try {
      await ask(question, msg, function (piece) {
        text += piece;
        msg.body.textContent = text;
        scrollDown();
      });
    } catch (err) {
      if (err.message === "session_not_found") {
        forget();  // the session expired: ask again in a new one
        try {
          text = "";
          await ask(question, msg, function (piece) {
            text += piece;
            msg.body.textContent = text;
          });
        } catch (again) {
          showError(msg, again);
        }
      } else {
        showError(msg, err);
      }
    } finally {
      msg.node.removeAttribute("aria-busy");
      msg.node.classList.remove("streaming");
      state.busy = false;
      send.disabled = false;
      scrollDown();
    }
  }

  function ask(question, msg, onText) {
    var body = { question: question, language: LANG_HINT };
    if (state.sessionId) body.session_id = state.sessionId;
    if (METADATA) body.metadata = METADATA;
    var failure = null;
    return stream("/v1/ask/stream", body, function (name, data) {
      if (name === "session") remember(data.session_id);
      else if (name === "delta") onText(data.text);
      else if (name === "answer") {
        state.lastAnswerId = data.answer_id;
        renderAnswer(msg, data);
        announce(data.abstained ? t("dontKnow") : t("answered"));
      } else if (name === "error") failure = new Error(errorMessage(500, data));
    }).then(function () {
      if (failure) throw failure;
    });
  }

  function showError(msg, err) {
    msg.node.classList.add("error");
    msg.body.textContent = err.message;
    msg.node.setAttribute("role", "alert");
  }

  function openEscalate() {
    escalateForm.hidden = false;
    form.hidden = true;
    humanButton.setAttribute("aria-expanded", "true");
    contact.focus();
  }

  function closeEscalate() {
    escalateForm.hidden = true;
    form.hidden = false;
    humanButton.setAttribute("aria-expanded", "false");
    input.focus();
  }

  function onEscalate(event) {
    event.preventDefault();
    var body = { contact: contact.value.trim(), reason: reason.value.trim() || t("humanReason") };
    if (state.sessionId) body.session_id = state.sessionId;
    if (state.lastAnswerId) body.answer_id = state.lastAnswerId;
    if (METADATA) body.metadata = METADATA;
    request("POST", "/v1/escalate", body)
      .then(function (result) {
        closeEscalate();
        var msg = addMessage("bot", result.message + " Your reference: " + result.escalation_id + ".");
        msg.node.classList.add("escalated");
        msg.node.setAttribute("data-escalation-id", result.escalation_id);
        announce(result.message);
        reason.value = "";
        if (state.sessionId) startHandoff(result.escalation_id);
      })
      .catch(function (err) {
        announce(err.message);
        var msg = addMessage("bot", err.message);
        msg.node.classList.add("error");
      });
  }
})();
