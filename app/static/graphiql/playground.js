// Starts GraphiQL against this service: queries and mutations over HTTP, subscriptions
// over WebSocket (graphql-transport-ws). Headers typed in the Headers pane travel with
// HTTP requests and, for subscriptions, in connection_init's payload.
(function () {
  "use strict";
  var wsScheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({
    url: window.location.origin + "/graphql",
    subscriptionUrl: wsScheme + "//" + window.location.host + "/graphql",
  });
  var example = [
    "# Paste a token in Headers below: {\"Authorization\": \"Bearer <token>\"}",
    "# (get one with: live-sessions token --sub host-1)",
    "",
    "query UpcomingSessions {",
    "  sessions(first: 10) {",
    "    totalCount",
    "    edges { node { id title scheduledAt registeredCount isRegistered } }",
    "  }",
    "}",
    "",
  ].join("\n");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: example,
      defaultHeaders: '{"Authorization": "Bearer <token>"}',
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    })
  );
})();
