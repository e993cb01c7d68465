// Starts GraphiQL against this service: queries and mutations over HTTP, subscriptions
// over WebSocket (graphql-transport-ws). Headers typed in the Headers pane travel with
// HTTP requests and, for subscriptions, in connection_init's payload.
//
// The schema comes from the published SDL (/schema.graphql), which needs no token, so
// Docs, the explorer and autocompletion work before the user has one; every operation,
// introspection included, still needs a token.
(function () {
  "use strict";
  var PLACEHOLDER = "Bearer <token from: live-sessions token --sub host-1>";
  var HEADERS = JSON.stringify({ Authorization: PLACEHOLDER }, null, 2);
  var NO_TOKEN =
    "No token yet. Where the server runs, run `live-sessions token --sub host-1` " +
    "(host-1 is the user you act as) and put its output after \"Bearer \" in Headers below.";

  var SESSION_ROW = "id title status scheduledAt registeredCount maxParticipants";
  var TABS = [
    {
      query: [
        "# A brand's sessions, 10 at a time (pass pageInfo.endCursor as `after`).",
        "# Every operation needs a token: see Headers below.",
        "query ListSessions($brand: String) {",
        "  sessions(first: 10, filter: {brandId: $brand}) {",
        "    totalCount",
        "    edges { node { " + SESSION_ROW + " registrationStatus } }",
        "    pageInfo { hasNextPage endCursor }",
        "  }",
        "}",
      ].join("\n"),
      variables: JSON.stringify({ brand: "brand-1" }, null, 2),
    },
    {
      query: [
        "# hostId must be your token's sub (or the token needs the sessions:admin scope).",
        "mutation CreateSession($input: CreateSessionInput!) {",
        "  createSession(input: $input) { " + SESSION_ROW + " waitlistEnabled }",
        "}",
      ].join("\n"),
      variables: JSON.stringify(
        {
          input: {
            hostId: "host-1",
            brandId: "brand-1",
            title: "Morning mobility",
            scheduledAt: "2030-06-01T10:00:00Z",
            maxParticipants: 20,
            waitlistEnabled: true,
          },
        },
        null,
        2
      ),
    },
    {
      query: [
        "# Take a seat (or a place in the waitlist once full). Idempotent.",
        "mutation Register($id: ID!) {",
        "  registerForSession(sessionId: $id) {",
        "    id registeredCount maxParticipants registrationStatus waitlistPosition",
        "  }",
        "}",
      ].join("\n"),
      variables: JSON.stringify({ id: "<a session id from ListSessions>" }, null, 2),
    },
    {
      query: [
        "# The session now, then again after every change. Register from another tab",
        "# (or another token) to see it move.",
        "subscription FollowSession($id: ID!) {",
        "  sessionUpdated(id: $id) { id version status registeredCount waitlistCount }",
        "}",
      ].join("\n"),
      variables: JSON.stringify({ id: "<a session id from ListSessions>" }, null, 2),
    },
  ].map(function (tab) {
    tab.headers = HEADERS;
    return tab;
  });

  var wsScheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  var network = GraphiQL.createFetcher({
    url: window.location.origin + "/graphql",
    subscriptionUrl: wsScheme + "//" + window.location.host + "/graphql",
  });

  // Each tab keeps its own headers: a tab still holding the placeholder borrows the
  // token last used in another tab, and without one the user is told how to get one
  // instead of the server's bare "the token is invalid".
  var lastToken = null;
  function fetcher(params, options) {
    var headers = Object.assign({}, options && options.headers);
    if (headers.Authorization === PLACEHOLDER) {
      if (lastToken === null) {
        return Promise.resolve({ errors: [{ message: NO_TOKEN }] });
      }
      headers.Authorization = lastToken;
    } else if (typeof headers.Authorization === "string") {
      lastToken = headers.Authorization;
    }
    return network(params, Object.assign({}, options, { headers: headers }));
  }

  // Open on the explorer, as Ruru and Strawberry's playground do: the schema at a glance.
  // Not on a narrow screen, where it would squeeze the editor to a few characters.
  var explorer = GraphiQLPluginExplorer.explorerPlugin();
  var WIDE_ENOUGH_FOR_EXPLORER = 1000;

  function render(schema) {
    var root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(
      React.createElement(GraphiQL, {
        fetcher: fetcher,
        schema: schema,
        defaultTabs: TABS,
        defaultHeaders: HEADERS,
        defaultEditorToolsVisibility: "headers",
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: true,
        plugins: [explorer],
        visiblePlugin: window.innerWidth >= WIDE_ENOUGH_FOR_EXPLORER ? explorer : null,
      })
    );
  }

  // Without the SDL (introspection turned off, say), GraphiQL falls back to asking the
  // server, which answers with the reason.
  fetch("/schema.graphql")
    .then(function (response) {
      if (!response.ok) { throw new Error("no published schema: " + response.status); }
      return response.text();
    })
    .then(function (sdl) { return GraphiQL.GraphQL.buildSchema(sdl); })
    .then(render, function () { render(undefined); });
})();
