// The browser side of the page, served as a file rather than inline so the Content-Security-Policy
// needs no 'unsafe-inline' for scripts. It reads the page's settings from a JSON data block (which
// browsers never execute), tells Monaco where its workers are (same-origin script URLs, so no
// blob: worker), gives the example its own idempotency key, and renders GraphiQL once the deferred
// bundle has run.
//
// Plain ES2020 text, not compiled TypeScript: the page runs it as it is.

export const GRAPHIQL_CONFIG_ELEMENT_ID = 'graphiql-config';

/**
 * Stands for the example's idempotencyKey in the page's settings; each page load puts a new UUID
 * there, so a second Run of the example replays the first instead of awarding twice. The page
 * itself stays one cached string.
 */
export const EXAMPLE_IDEMPOTENCY_KEY = 'new-key-per-page-load';

// A UUID v4 from getRandomValues: crypto.randomUUID exists only in secure contexts (not on http://<LAN address>).
export const START_SCRIPT = `'use strict';
(function () {
  var config = JSON.parse(document.getElementById('${GRAPHIQL_CONFIG_ELEMENT_ID}').textContent);
  function newUuid() {
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join('');
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
  }
  var example = config.options.defaultQuery;
  if (typeof example === 'string' && example.indexOf('${EXAMPLE_IDEMPOTENCY_KEY}') !== -1) {
    var fresh = example.split('${EXAMPLE_IDEMPOTENCY_KEY}').join(newUuid());
    config.options.defaultQuery = fresh;
    // GraphiQL restores its tabs from localStorage: an unedited example restored with an earlier
    // page's key gets this page's key too (an edited one is the user's own and keeps its key).
    var pattern = new RegExp('^' + example.split('${EXAMPLE_IDEMPOTENCY_KEY}').map(function (part) {
      return part.replace(/[.*+?^$()|[\\]{}\\\\]/g, '\\\\$&');
    }).join('[0-9a-f-]{36}') + '$');
    try {
      var stored = localStorage.getItem('graphiql:tabState');
      var state = stored && JSON.parse(stored);
      if (state && Array.isArray(state.tabs)) {
        state.tabs.forEach(function (tab) {
          if (typeof tab.query === 'string' && pattern.test(tab.query)) {
            tab.query = fresh;
            tab.response = null;
          }
        });
        localStorage.setItem('graphiql:tabState', JSON.stringify(state));
      }
      var last = localStorage.getItem('graphiql:query');
      if (last && pattern.test(last)) localStorage.setItem('graphiql:query', fresh);
    } catch (error) {
      // No storage (a private window, a sandboxed frame): nothing was restored.
    }
  }
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
