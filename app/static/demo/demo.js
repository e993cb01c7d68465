// The demo page: upcoming sessions of a brand, kept live by the sessionUpdated
// subscription (graphql-transport-ws, written out here: no build step). When the
// connection drops (a restart, a deploy, a flaky network) it reconnects with growing
// delays and subscribes again; the server then sends every session as it is now.
(function () {
  "use strict";
  var FIELDS =
    "id title scheduledAt status registeredCount maxParticipants waitlistEnabled " +
    "waitlistCount registrationStatus waitlistPosition version calendarUrl";
  var LIST =
    "query Upcoming($brand: String!, $from: DateTime!) { sessions(first: 50, filter: " +
    "{brandId: $brand, scheduledFrom: $from, status: [SCHEDULED, LIVE]}) { edges { node { " +
    FIELDS + " } } } }";
  var FOLLOW = "subscription Follow($id: ID!) { sessionUpdated(id: $id) { " + FIELDS + " } }";
  var REGISTER = "mutation Register($id: ID!) { registerForSession(sessionId: $id) { " + FIELDS + " } }";
  var UNREGISTER = "mutation Unregister($id: ID!) { unregisterFromSession(sessionId: $id) { " + FIELDS + " } }";
  var OPEN = { SCHEDULED: true, LIVE: true };
  var COLUMNS = [
    ["title", "Session"],
    ["status", "Status"],
    ["seats", "Seats"],
    ["place", "You"],
    ["action", null],
  ];
  // Reconnecting: 0.5 s, 1 s, 2 s ... up to 15 s, each spread by ±20% so that the
  // viewers of one restarted server do not all come back in the same instant.
  var FIRST_DELAY_MS = 500;
  var MAX_DELAY_MS = 15000;

  var token = "";
  var followed = [];
  var socket = null;
  var attempt = 0;
  var retryTimer = null;
  var versions = {};
  var steps = {};
  var status = document.getElementById("status");
  var tbody = document.querySelector("#sessions tbody");

  function graphql(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ query: query, variables: variables }),
    })
      .catch(function () { throw new Error("The server did not answer; try again."); })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.errors) { throw new Error(body.errors[0].message); }
        return body.data;
      });
  }

  function row(id) {
    var tr = document.getElementById("s-" + id);
    if (tr) { return tr; }
    tr = document.createElement("tr");
    tr.id = "s-" + id;
    COLUMNS.forEach(function (column) {
      var td = document.createElement("td");
      td.className = column[0];
      if (column[1]) { td.dataset.label = column[1]; }
      tr.appendChild(td);
    });
    var button = document.createElement("button");
    button.type = "button";
    button.addEventListener("click", function () { act(id, tr); });
    var error = document.createElement("p");
    error.className = "error";
    error.setAttribute("role", "alert");
    tr.querySelector(".action").append(button, error);
    tbody.appendChild(tr);
    return tr;
  }

  // What the viewer can do next, or null for nothing (closed, or full with no waitlist).
  function nextStep(session) {
    if (session.registrationStatus === "REGISTERED") { return { label: "Unregister", mutation: UNREGISTER }; }
    if (session.registrationStatus === "WAITLISTED") { return { label: "Leave waitlist", mutation: UNREGISTER }; }
    if (!OPEN[session.status]) { return null; }
    if (session.registeredCount < session.maxParticipants) { return { label: "Register", mutation: REGISTER }; }
    if (session.waitlistEnabled) { return { label: "Join waitlist", mutation: REGISTER }; }
    return null;
  }

  function seats(session) {
    var left = Math.max(0, session.maxParticipants - session.registeredCount);
    if (left > 0) { return left + " of " + session.maxParticipants + " left"; }
    return "Full" + (session.waitlistCount ? ", " + session.waitlistCount + " waiting" : "");
  }

  function place(session) {
    if (session.registrationStatus === "REGISTERED") { return "registered"; }
    if (session.registrationStatus === "WAITLISTED") { return "waitlisted, #" + session.waitlistPosition + " in line"; }
    return "not registered";
  }

  function show(session) {
    // Events carry a version per session: an older one than shown is stale.
    if ((versions[session.id] || 0) > session.version) { return; }
    versions[session.id] = session.version;
    var tr = row(session.id);
    var title = tr.querySelector(".title");
    title.textContent = session.title;
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = new Date(session.scheduledAt).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    title.appendChild(when);
    var calendar = document.createElement("a");
    calendar.className = "calendar";
    calendar.href = session.calendarUrl;
    calendar.textContent = "Add to calendar";
    title.appendChild(calendar);
    var cell = tr.querySelector(".status");
    cell.textContent = session.status.charAt(0) + session.status.slice(1).toLowerCase();
    cell.classList.toggle("live", session.status === "LIVE");
    tr.querySelector(".seats").textContent = seats(session);
    tr.querySelector(".place").textContent = place(session);
    var step = nextStep(session);
    var button = tr.querySelector(".action button");
    button.hidden = step === null;
    button.textContent = step ? step.label : "";
    steps[session.id] = step;
    tr.classList.add("flash");
    setTimeout(function () { tr.classList.remove("flash"); }, 400);
  }

  function act(id, tr) {
    var button = tr.querySelector(".action button");
    var error = tr.querySelector(".error");
    var step = steps[id];
    if (!step) { return; }
    error.textContent = "";
    button.disabled = true;
    graphql(step.mutation, { id: id })
      .then(function (data) { show(data.registerForSession || data.unregisterFromSession); })
      .catch(function (failure) { error.textContent = failure.message; })
      .then(function () { button.disabled = false; });
  }

  // Close codes 4400-4499 are the server refusing (a bad token, say): asking again
  // would be refused again. 4408 (no connection_init in time) is worth another try.
  function refused(code) {
    return code >= 4400 && code < 4500 && code !== 4408;
  }

  function connect() {
    clearTimeout(retryTimer);
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(scheme + "//" + window.location.host + "/graphql", "graphql-transport-ws");
    socket = ws;
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "connection_init", payload: { Authorization: "Bearer " + token } }));
    };
    ws.onmessage = function (message) {
      if (ws !== socket) { return; }
      var data = JSON.parse(message.data);
      if (data.type === "connection_ack") {
        attempt = 0;
        followed.forEach(function (id) {
          ws.send(JSON.stringify({ id: id, type: "subscribe", payload: { query: FOLLOW, variables: { id: id } } }));
        });
        status.textContent = "Live: counts update as people register.";
      } else if (data.type === "next" && data.payload.data) {
        show(data.payload.data.sessionUpdated);
      } else if (data.type === "error") {
        var tr = document.getElementById("s-" + data.id);
        if (tr) { tr.querySelector(".error").textContent = "Live updates stopped: " + data.payload[0].message; }
      } else if (data.type === "ping") {
        ws.send(JSON.stringify({ type: "pong" }));
      }
    };
    ws.onclose = function (event) {
      if (ws !== socket) { return; }
      socket = null;
      if (refused(event.code)) {
        status.textContent = "Live updates stopped: " + (event.reason || "refused (" + event.code + ")") + ".";
        return;
      }
      var delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * Math.pow(2, attempt)) * (0.8 + 0.4 * Math.random());
      attempt += 1;
      status.textContent = "Connection lost; reconnecting in " + Math.ceil(delay / 1000) + " s…";
      retryTimer = setTimeout(connect, delay);
    };
  }

  function follow(ids) {
    clearTimeout(retryTimer);
    var previous = socket;
    socket = null;
    if (previous) { previous.close(); }
    followed = ids;
    attempt = 0;
    if (ids.length) { connect(); }
  }

  document.getElementById("connect").addEventListener("submit", function (event) {
    event.preventDefault();
    token = document.getElementById("token").value.trim();
    var brand = document.getElementById("brand").value.trim();
    tbody.textContent = "";
    versions = {};
    steps = {};
    graphql(LIST, { brand: brand, from: new Date().toISOString() })
      .then(function (data) {
        var sessions = data.sessions.edges.map(function (edge) { return edge.node; });
        document.getElementById("sessions").hidden = false;
        sessions.forEach(show);
        status.textContent = sessions.length ? "" : "No upcoming sessions for this brand.";
        follow(sessions.map(function (session) { return session.id; }));
      })
      .catch(function (error) { status.textContent = error.message; });
  });
})();
