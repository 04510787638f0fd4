// A button or form carrying data-confirm asks before it posts: the message names what the step
// does and that it cannot be undone. Runs in the capture phase, before htmx's own handler.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var message = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
