// Renders /openapi.json with Swagger UI. validatorUrl: null keeps it from sending the
// document to validator.swagger.io: this page talks to this service only.
(function () {
  "use strict";
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
