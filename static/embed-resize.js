// The iframe embed's height, told and heard (an external file, so neither page needs an inline
// script under its CSP).
// - Inside /embed/<slug> (framed): post the content height to the parent whenever it changes.
// - On a publisher's page (not framed), next to <iframe data-membership-embed>: listen for those
//   messages from this script's own origin and set the matching iframe's height attribute.
// The message carries only layout and a public slug, hence the "*" target origin.
(function () {
  var TYPE = 'membership-progress:height';
  var root = document.documentElement;

  if (window.parent !== window) {
    var last = 0;
    var send = function () {
      var height = Math.ceil(root.getBoundingClientRect().height);
      if (height === last) return;
      last = height;
      window.parent.postMessage({ type: TYPE, campaign: root.getAttribute('data-campaign'), height: height }, '*');
    };
    if (window.ResizeObserver) new ResizeObserver(send).observe(root);
    window.addEventListener('load', send);
    send();
    return;
  }

  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src).origin : location.origin;
  window.addEventListener('message', function (event) {
    var data = event.data;
    if (event.origin !== origin || !data || data.type !== TYPE || !(data.height > 0)) return;
    var frames = document.querySelectorAll('iframe[data-membership-embed]');
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) frames[i].height = String(data.height);
    }
  });
})();
