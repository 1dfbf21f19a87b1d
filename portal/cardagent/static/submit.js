/* Submits the agent's post-back form at once; without JavaScript the visible 繼續 button does it. */
(function () {
  var form = document.getElementById("postback");
  if (form) {
    form.submit();
  }
}());
