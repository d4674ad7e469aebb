// The API documentation page (/api/v1/docs): Swagger UI over this server's OpenAPI document.
// A static file, not an inline script, so the Content-Security-Policy keeps script-src 'self'.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    // Swagger UI would send the document to validator.swagger.io: nothing leaves this host.
    validatorUrl: null,
    // "Authorize" keeps the bearer token in memory only, not in localStorage.
    persistAuthorization: false,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
