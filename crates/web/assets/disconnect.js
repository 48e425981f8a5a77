// The Disconnect dialog: "Disconnect & Continue" works only once the seller typed
// "disconnect" (the server checks it too). A file of its own, so the Content-Security-Policy
// can refuse every inline script.
(function () {
  var input = document.getElementById("confirm"), button = document.getElementById("disconnect-continue");
  input.addEventListener("input", function () { button.disabled = input.value.trim() !== "disconnect"; });
})();
