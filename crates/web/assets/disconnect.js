// The Disconnect dialog: "Disconnect & Continue" waits until the seller typed "disconnect".
// The page serves the button enabled and the server checks the word, so without this script
// the form still works; with it, the button says so before the round trip. A file of its own,
// so the Content-Security-Policy can refuse every inline script.
(function () {
  var input = document.getElementById("confirm"), button = document.getElementById("disconnect-continue");
  function update() { button.disabled = input.value.trim() !== "disconnect"; }
  input.addEventListener("input", update);
  update();
})();
