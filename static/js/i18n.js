// The scripts' words in the page's language: _("Text", {name: value}) looks the English text
// up in the JSON that base.html writes into <meta name="carebook-strings"> (app/i18n.py,
// js_strings; {} in English: no inline script, the CSP allows none) and fills in %(name)s.
// Loaded first, without defer, so that every script may use it at once.
(function () {
  "use strict";
  var strings = null;
  window.carebookGettext = function (text, values) {
    if (strings === null) {
      var meta = document.querySelector('meta[name="carebook-strings"]');
      try {
        strings = meta ? JSON.parse(meta.getAttribute("content")) : {};
      } catch (error) {
        strings = {};
      }
    }
    var out = strings[text] || text;
    if (values) {
      out = out.replace(/%\((\w+)\)s/g, function (all, name) {
        return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
      });
    }
    return out;
  };
})();
