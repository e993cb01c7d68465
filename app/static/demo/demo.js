// The demo page: upcoming sessions of a brand, with counts kept live by the
// sessionUpdated subscription (graphql-transport-ws, written out here: no build step).
(function () {
  "use strict";
  var FIELDS = "id title scheduledAt registeredCount maxParticipants isRegistered registrationStatus version";
  var LIST =
    "query Upcoming($brand: String!, $from: DateTime!) { sessions(first: 50, filter: " +
    "{brandId: $brand, scheduledFrom: $from, status: [SCHEDULED, LIVE]}) { edges { node { " +
    FIELDS + " } } } }";
  var FOLLOW = "subscription Follow($id: ID!) { sessionUpdated(id: $id) { " + FIELDS + " } }";
  var REGISTER = "mutation Register($id: ID!) { registerForSession(sessionId: $id) { " + FIELDS + " } }";
  var UNREGISTER = "mutation Unregister($id: ID!) { unregisterFromSession(sessionId: $id) { " + FIELDS + " } }";

  var token = "";
  var socket = null;
  var versions = {};
  var status = document.getElementById("status");
  var tbody = document.querySelector("#sessions tbody");

  function graphql(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ query: query, variables: variables }),
    })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.errors) { throw new Error(body.errors[0].message); }
        return body.data;
      });
  }

  function row(session) {
    var tr = document.getElementById("s-" + session.id);
    if (!tr) {
      tr = document.createElement("tr");
      tr.id = "s-" + session.id;
      ["title", "when", "seats", "place", "action"].forEach(function (name) {
        var td = document.createElement("td");
        td.className = name;
        tr.appendChild(td);
      });
      var button = document.createElement("button");
      button.type = "button";
      button.addEventListener("click", function () { toggle(session.id, button); });
      tr.querySelector(".action").appendChild(button);
      tbody.appendChild(tr);
    }
    return tr;
  }

  function show(session) {
    // Events carry a version per session: an older one than shown is stale.
    if ((versions[session.id] || 0) > session.version) { return; }
    versions[session.id] = session.version;
    var tr = row(session);
    tr.querySelector(".title").textContent = session.title;
    tr.querySelector(".when").textContent = new Date(session.scheduledAt).toLocaleString();
    tr.querySelector(".seats").textContent = session.registeredCount + " / " + session.maxParticipants;
    tr.querySelector(".place").textContent = session.registrationStatus.toLowerCase();
    var button = tr.querySelector(".action button");
    button.textContent = session.isRegistered || session.registrationStatus === "WAITLISTED" ? "Unregister" : "Register";
    button.dataset.registered = String(session.registrationStatus !== "NONE");
    tr.classList.add("flash");
    setTimeout(function () { tr.classList.remove("flash"); }, 400);
  }

  function toggle(id, button) {
    var mutation = button.dataset.registered === "true" ? UNREGISTER : REGISTER;
    graphql(mutation, { id: id })
      .then(function (data) { show(data.registerForSession || data.unregisterFromSession); })
      .catch(function (error) { status.textContent = error.message; });
  }

  function follow(ids) {
    if (socket) { socket.close(); }
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + window.location.host + "/graphql", "graphql-transport-ws");
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: "Bearer " + token } }));
    };
    socket.onmessage = function (message) {
      var data = JSON.parse(message.data);
      if (data.type === "connection_ack") {
        ids.forEach(function (id) {
          socket.send(JSON.stringify({ id: id, type: "subscribe", payload: { query: FOLLOW, variables: { id: id } } }));
        });
        status.textContent = "Live: counts update as people register.";
      } else if (data.type === "next" && data.payload.data) {
        show(data.payload.data.sessionUpdated);
      } else if (data.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      }
    };
    socket.onclose = function (event) {
      status.textContent = "Live updates stopped (" + event.code + (event.reason ? ": " + event.reason : "") + ").";
    };
  }

  document.getElementById("connect").addEventListener("submit", function (event) {
    event.preventDefault();
    token = document.getElementById("token").value.trim();
    var brand = document.getElementById("brand").value.trim();
    tbody.textContent = "";
    versions = {};
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
