// The registrations table: "select all on this page" ticks every row's box (the form works without it).
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) return;
  var boxes = function () { return document.querySelectorAll('#registrations input[name="ids"]'); };
  all.addEventListener("change", function () {
    boxes().forEach(function (box) { box.checked = all.checked; });
  });
  document.getElementById("registrations").addEventListener("change", function (e) {
    if (e.target === all) return;
    var list = Array.prototype.slice.call(boxes());
    all.checked = list.length > 0 && list.every(function (b) { return b.checked; });
  });
})();
