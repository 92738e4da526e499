/* Countdown to the opening in *server* time: the page carries the server's clock, so a
   phone with a wrong clock still counts right. Without JavaScript the opening time shows. */
(function () {
  var nodes = document.querySelectorAll("[data-opens-at]");
  if (!nodes.length) return;
  var serverNow = Date.parse(document.body.getAttribute("data-server-now"));
  var offset = isNaN(serverNow) ? 0 : serverNow - Date.now();
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    nodes.forEach(function (node) {
      var left = Math.max(0, Date.parse(node.getAttribute("data-opens-at")) - (Date.now() + offset));
      var s = Math.floor(left / 1000), d = Math.floor(s / 86400);
      var text = (d ? d + " · " : "") + pad(Math.floor(s % 86400 / 3600)) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
      node.textContent = text;
    });
  }
  tick();
  setInterval(tick, 1000);
})();
