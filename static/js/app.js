// Behaviour every page shares. No inline handlers anywhere: the Content-Security-Policy
// allows scripts from our own static files only.
(function () {
  // After htmx swaps in new content (the next wizard step, the demo runs just queued), the
  // element the server marked with data-focus-after-swap is scrolled into view and focused,
  // so the reader (and a screen reader, which announces the focused element) lands there
  // instead of on <body> at the old scroll position.
  function focusMarked(root) {
    var element = root.matches && root.matches("[data-focus-after-swap]")
      ? root
      : root.querySelector && root.querySelector("[data-focus-after-swap]");
    if (!element) return;
    element.removeAttribute("data-focus-after-swap");
    if (!element.hasAttribute("tabindex")) element.setAttribute("tabindex", "-1");
    var block = element.dataset.scrollBlock || "start";
    element.scrollIntoView({ block: block });
    element.focus({ preventScroll: true });
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    focusMarked(event.detail.elt || event.target);
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.closest("[data-print]")) window.print();
  });

  // A one-time link is selected when it gets focus, ready to copy.
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-select-on-focus")) {
      target.select();
    }
  });
})();
