// The scripts' words in the page's language: _("Text", {name: value}) looks the English text
// up in the JSON block base.html writes (app/i18n.py, js_strings; empty in English) and fills
// in %(name)s. Loaded first, without defer, so that every script may use it at once.
(function () {
  "use strict";
  var strings = null;
  window.carebookGettext = function (text, values) {
    if (strings === null) {
      var block = document.getElementById("carebook-strings");
      try {
        strings = block ? JSON.parse(block.textContent) : {};
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
