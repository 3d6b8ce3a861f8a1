// Mounts GraphiQL (loaded from this service, see SOURCES.txt) on the explorer page of /graphql.
// A file rather than an inline script: the page's Content-Security-Policy allows scripts from
// 'self' only.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  if (typeof window.React === "undefined" || typeof window.GraphiQL === "undefined") {
    root.textContent = "GraphiQL did not load: its files under /graphql/assets/ could not be read.";
    return;
  }
  var fetcher = window.GraphiQL.createFetcher({ url: root.getAttribute("data-endpoint") });
  var element = window.React.createElement(window.GraphiQL, {
    fetcher: fetcher,
    defaultQuery: "# Paste a bearer token in Headers below (make serve prints one), then run:\n{ me { tenantId userId role } }\n",
    defaultHeaders: '{\n  "Authorization": "Bearer <token>"\n}',
    shouldPersistHeaders: true,
    isHeadersEditorEnabled: true,
    defaultEditorToolsVisibility: "headers",
  });
  window.ReactDOM.createRoot(root).render(element);
})();
