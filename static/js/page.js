// Behaviour that pages declare with data attributes, so no page needs an inline script or
// an on* handler (the Content-Security-Policy allows only our own script files).
//   <button data-print>            opens the browser's print dialog
//   <input data-select-on-click>   selects its whole value when clicked (a link to copy)
(function () {
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.closest("[data-print]")) {
      window.print();
      return;
    }
    var input = target.closest("[data-select-on-click]");
    if (input && typeof input.select === "function") input.select();
  });
})();
