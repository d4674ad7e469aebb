// A "print" button (data-print) opens the browser's print dialog: print, or save as PDF.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
