/* The web edition's behaviour (web-base.html.j2). The page works without it: notes show
   in the text and each paragraph's evidence is a <details> that opens by itself. With it:
   a paragraph number opens and closes its evidence; on a narrow screen a note opens under
   its call when the call is tapped (or Enter is pressed on it), and closes again; a link
   to #evidence-N opens that evidence. A project overrides this file with its own web.js
   in templates/. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");
  var wide = window.matchMedia("(min-width: 72rem)");

  function target(link) {
    return document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
  }

  function setExpanded(link, open) {
    link.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.querySelectorAll("a.note-call").forEach(function (call) {
    call.setAttribute("aria-controls", call.getAttribute("href").slice(1));
    setExpanded(call, false);
  });
  document.querySelectorAll("a.pnum").forEach(function (number) {
    var details = target(number);
    if (!details) { return; }
    number.setAttribute("aria-controls", details.id);
    setExpanded(number, details.open);
    details.addEventListener("toggle", function () { setExpanded(number, details.open); });
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.note-call, a.pnum");
    if (!link) { return; }
    var shown = target(link);
    if (!shown) { return; }
    if (link.classList.contains("pnum")) {
      event.preventDefault();
      shown.open = !shown.open;
      if (shown.open) { shown.scrollIntoView({ block: "nearest" }); }
    } else if (!wide.matches) {  /* a wide screen shows its notes in the margin */
      event.preventDefault();
      var open = !shown.classList.contains("open");
      shown.classList.toggle("open", open);
      setExpanded(link, open);
    }
  });

  function openFromHash() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var shown = id && document.getElementById(id);
    if (shown && shown.tagName === "DETAILS") { shown.open = true; }
  }
  window.addEventListener("hashchange", openFromHash);
  openFromHash();
})();
