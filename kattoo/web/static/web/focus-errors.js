// Move focus to the error summary (or the refusal) of a parent form, so a screen reader reads
// it and the keyboard starts there. Without JavaScript `autofocus` does the same.
document.addEventListener("DOMContentLoaded", function () {
  var target = document.getElementById("error-summary") || document.getElementById("problem");
  if (target && document.activeElement !== target) {
    target.focus();
  }
});
