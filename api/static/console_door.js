/* The live door view: fetch the figures' fragment every 10 seconds and swap it in (the page works
   without this script: a <noscript> meta refresh reloads it every 30 seconds). Also refreshes an
   announcement's progress while messages are pending ([data-live] on any console page). */
(function () {
  'use strict';
  var box = document.querySelector('[data-live]');
  if (!box) return;
  var every = Number(box.getAttribute('data-every') || 10000);
  var busy = false;
  function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(box.getAttribute('data-live'), { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (response) {
        if (response.redirected || response.status !== 200) throw new Error('status ' + response.status);
        return response.text();
      })
      .then(function (html) {
        box.innerHTML = html;
        box.removeAttribute('data-stale');
        if (box.querySelector('[data-finished]')) clearInterval(timer);
      })
      .catch(function () { box.setAttribute('data-stale', '1'); })
      .then(function () { busy = false; });
  }
  var timer = setInterval(refresh, every);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) refresh(); });
})();

/* A form marked data-once: its buttons are disabled once it is sent (the server already refuses a
   second send of the same form; this spares the second request). */
(function () {
  'use strict';
  Array.prototype.forEach.call(document.querySelectorAll('form[data-once]'), function (form) {
    form.addEventListener('submit', function () {
      setTimeout(function () {
        Array.prototype.forEach.call(form.querySelectorAll('button'), function (b) { b.disabled = true; });
      }, 0);
    });
  });
})();
