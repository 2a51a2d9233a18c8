// The browser side of the page, served as a file rather than inline so the Content-Security-Policy
// needs no 'unsafe-inline' for scripts. It reads the page's settings from a JSON data block (which
// browsers never execute), tells Monaco where its workers are (same-origin script URLs, so no
// blob: worker), and renders GraphiQL once the deferred bundle has run.
//
// Plain ES2020 text, not compiled TypeScript: the page runs it as it is.

export const GRAPHIQL_CONFIG_ELEMENT_ID = 'graphiql-config';

export const START_SCRIPT = `'use strict';
(function () {
  var config = JSON.parse(document.getElementById('${GRAPHIQL_CONFIG_ELEMENT_ID}').textContent);
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (_moduleId, label) {
      return config.workers[label];
    },
  };
  document.addEventListener('DOMContentLoaded', function () {
    YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), config.options);
  });
})();
`;
