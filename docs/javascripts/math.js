// Renders the formulas that pymdownx.arithmatex (generic mode) leaves in the page:
// <span class="arithmatex">\( ... \)</span> inline and <div class="arithmatex">\[ ... \]</div>
// displayed. KaTeX is vendored beside this file (katex/), so the site needs no CDN.
(function () {
  function renderMath(root) {
    root.querySelectorAll(".arithmatex").forEach(function (el) {
      var text = el.textContent.trim();
      var display = text.startsWith("\\[");
      if (display || text.startsWith("\\(")) {
        text = text.slice(2, -2);
      }
      katex.render(text, el, { displayMode: display, throwOnError: false });
    });
  }
  if (typeof document$ !== "undefined") {
    // Material for MkDocs publishes every page load (instant navigation included) here.
    document$.subscribe(function () { renderMath(document.body); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { renderMath(document.body); });
  }
})();
