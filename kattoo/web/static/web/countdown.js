/* Countdown to the opening in *server* time: the page carries the server's clock, so a
   phone with a wrong clock still counts right. Without JavaScript the opening time shows.
   The words are the page's, translated on the server: the node (or <body>) carries
   data-format-days="{d} d {h} h {m} min" and data-format-hours="{h} h {m} min {s} s"
   (kattoo/web/templates/_countdown_formats.html); without them the digits show alone. */
(function () {
  var nodes = document.querySelectorAll("[data-opens-at]");
  if (!nodes.length) return;
  var serverNow = Date.parse(document.body.getAttribute("data-server-now"));
  var offset = isNaN(serverNow) ? 0 : serverNow - Date.now();
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function format(node, name) {
    return node.getAttribute(name) || document.body.getAttribute(name) || "";
  }
  function fill(pattern, d, h, m, s) {
    return pattern.replace("{d}", d).replace("{h}", pad(h)).replace("{m}", pad(m)).replace("{s}", pad(s));
  }
  function tick() {
    nodes.forEach(function (node) {
      var left = Math.max(0, Date.parse(node.getAttribute("data-opens-at")) - (Date.now() + offset));
      var s = Math.floor(left / 1000), d = Math.floor(s / 86400);
      var h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
      var pattern = format(node, d ? "data-format-days" : "data-format-hours");
      node.textContent = pattern
        ? fill(pattern, d, h, m, sec)
        : (d ? d + " · " : "") + pad(h) + ":" + pad(m) + ":" + pad(sec);
    });
  }
  tick();
  setInterval(tick, 1000);
})();
