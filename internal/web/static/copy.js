// Copy buttons for secrets shown once: <button type="button" data-copy="ID">
// copies the value (or text) of the element with that id. A file, not an
// inline script: the pages' Content-Security-Policy allows only 'self'.
document.addEventListener("click", function (ev) {
  var b = ev.target.closest("button[data-copy]");
  if (!b) return;
  var el = document.getElementById(b.getAttribute("data-copy"));
  if (!el || !navigator.clipboard) return;
  var text = el.value !== undefined ? el.value : el.textContent;
  navigator.clipboard.writeText(text.trim()).then(function () {
    var label = b.textContent;
    b.textContent = "Copied";
    setTimeout(function () { b.textContent = label; }, 2000);
  });
});
