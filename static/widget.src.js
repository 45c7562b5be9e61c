/*
 * <membership-progress campaign="SLUG"> — the embeddable membership-drive progress bar.
 *
 * Readable source. static/widget.js is built from this file by tools/widget (terser) and committed,
 * so the service never needs Node. Rules this file keeps (see docs/embedding.md):
 * - no framework, no innerHTML, no eval, no <style> elements, no style attributes: the host page may
 *   run `script-src <our host>; style-src 'self'` and must see no CSP violation;
 * - never show a number that is not the real one: the loading state has no digits at all and the
 *   error state shows the publisher's fallback content or nothing;
 * - the element has the same height in every state, so the data landing shifts nothing;
 * - one request per campaign per page, no cookies, no custom headers (so no CORS preflight).
 * - no UI words of its own beyond the loading state's label: the count line, plural forms and the
 *   reached/ended messages come with the data (`words` in the API's JSON, from membership/i18n.py).
 * Names starting with "_" are internal; the build shortens them. The budget is 2,200 bytes gzipped
 * (tests/test_widget_size.py fails above it): every line here costs bytes on every article.
 */
(() => {
  const TAG = 'membership-progress';
  // Loading the script twice (two snippets on one page, an SPA injecting it again) must be harmless.
  if (customElements.get(TAG)) return;

  const doc = document;
  // The API lives next to the script unless an `api` attribute gives the service's root URL; using
  // the script's directory (not just its origin) keeps a service mounted under a path prefix working.
  const BASE = new URL('.', doc.currentScript?.src || location);

  // Every line has a fixed height (overflow is cut at a line boundary), so the loading, normal,
  // reached and ended states are exactly as tall as each other: 15em + 2px (docs/embedding.md).
  // Greys are translucent, so they suit a light or a dark host page; text inherits the page's
  // colour. Theming: --membership-progress-accent, and ::part() for the rest (a page's ::part rules
  // win over these). The error state hides the card and shows the light-DOM fallback instead.
  const SHEET = new CSSStyleSheet();
  SHEET.replaceSync(/* css */ `
:host{display:block}
.widget{border:1px solid #8886;border-radius:.5em;padding:1em}
p{margin:0 0 .6em;line-height:1.4;height:2.8em;overflow:hidden}
.headline,a{font-weight:700}
.count{font-size:1.25em;height:1.4em}
.bar{margin-bottom:.5em;border-radius:.4em;overflow:hidden;background:#8884}
.mark{width:3px;height:.7em;margin-top:-.7em;margin-inline-start:-9px;background:#fffc}
.fill{width:0;height:.7em;transition:1s}
.fill,a{background:var(--membership-progress-accent,#b3261e)}
a{display:block;width:fit-content;padding:0 1em;line-height:2.5;height:2.5em;overflow:hidden;border-radius:.5em;color:#fff;text-decoration:none}
a:not([href]){visibility:hidden}
.loading p{background:#8883}
.error,:not(.error)+slot{display:none}
@media(prefers-reduced-motion){.fill{transition:none}}
@media(forced-colors){.bar,a{border:1px solid}.fill{forced-color-adjust:none;background:Highlight}}
`);

  // One entry per API URL, shared by every element showing that campaign:
  // {_url, _els: elements waiting for or showing it, _data: the last good answer, _ctl: the
  // AbortController of the request in flight, _timer: the next refresh is pending}.
  const cache = {};

  const load = async (entry) => {
    const ctl = (entry._ctl = new AbortController());
    try {
      // credentials:'omit' and no custom headers: a "simple" request, no cookies, no preflight.
      const data = await (await fetch(entry._url, { credentials: 'omit', signal: ctl.signal })).json();
      // A bad or failed refresh keeps the last good numbers; with none, the error state shows.
      // `count` must be a number (toFixed: JSON has no NaN or Infinity), and without the words (an
      // older or a broken answer) there is nothing to say the count with.
      if (data.goal > 0 && data.count.toFixed && data.words.en) entry._data = data;
    } catch {}
    // An aborted request was already forgotten in _drop(); a newer one may be in flight.
    if (entry._ctl != ctl) return;
    entry._ctl = 0;
    entry._els.forEach((el) => el._render());
    later(entry);
  };

  // Refresh no more often than every 60 s, jittered to 60–90 s so a newsroom's readers do not all
  // arrive at once, and only while the page is visible (a hidden page just waits another round).
  // When nobody shows the campaign any more, the timer ends the cycle.
  const later = (entry) =>
    (entry._timer = setTimeout(() => {
      entry._timer = 0;
      if (entry._els.size) doc.hidden ? later(entry) : load(entry);
    }, 6e4 + Math.random() * 3e4));

  // Each observer calls back once per element (until the element observes it again).
  const observer = (fn, options) =>
    new IntersectionObserver(
      (records, io) =>
        records.forEach((r) => {
          if (r.isIntersecting) {
            io.unobserve(r.target);
            fn(r.target);
          }
        }),
      options,
    );
  // Fetch a little before the widget scrolls into view; grow the bar once it is really seen.
  const near = observer((el) => el._near(), { rootMargin: '50% 0px' });
  const seen = observer((el) => el._seen(1), { threshold: 0.5 });

  // A child element whose class and ::part name are `part` (`tag` becomes the element: fewer bytes).
  const make = (parent, part, tag = 'p') => {
    tag = parent.appendChild(doc.createElement(tag));
    tag.part = tag.className = part;
    return tag;
  };

  // The element's state lives in this closure (short local names after the build); the element
  // gets the few methods that the observers, the cache and its lifecycle callbacks call.
  const mount = (el) => {
    const own = new CSSStyleSheet(); // the only per-element style: the bar's length
    const root = el.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [SHEET, own];
    let key, entry, visible, widget, headline, count, bar, at, message, cta;

    const state = (name) => (widget.className = 'widget ' + name);

    const emit = (name) =>
      el.dispatchEvent(
        new CustomEvent(TAG + ':' + name, {
          bubbles: true,
          composed: true,
          cancelable: true,
          // The campaign's public JSON (slug, count, goal, percent, status…), copied so that a
          // listener cannot change what the widget shows.
          detail: { ...entry._data },
        }),
      );

    // The number is right from its first frame; the bar grows into place once the reader sees it
    // (at once under prefers-reduced-motion, where the stylesheet drops the transition). `percent`
    // is not capped: over 100% is cut by the bar's overflow; a negative one is invalid CSS, so the
    // bar stays empty.
    const grow = (seen) => {
      if (seen) visible = 1;
      const data = entry?._data;
      if (!visible || !data) return;
      // The first time the bar gets its length is when the count is shown.
      if (!own.cssRules[0]) emit('shown');
      // The mark (a goal reached, see render) sits `at` % of the bar from its start, in either
      // writing direction; without one, "NaN%" is invalid and the mark stays outside the bar.
      own.replaceSync('.fill{width:' + data.percent + '%}.mark{margin-inline-start:' + at + '%}');
    };

    const render = (el._render = () => {
      const data = entry._data;
      // No good answer yet: keep loading while a request is in flight, else show the error state.
      if (!data) return entry._ctl || state('error');
      const n = data.count;
      // Among the languages of the API's `words`: the element's own lang wins, then the page's (the
      // nearest lang around it, usually <html lang>), then the campaign's locale.
      const lang =
        [el.closest('[lang]')?.lang, data.locale]
          .map((tag) => tag?.slice(0, 2).toLowerCase()) // "uk-UA" -> "uk"
          .find((code) => data.words[code]) || 'en';
      const copy = data.words[lang];
      const goal = data.goal;
      const say = (x) => x.toLocaleString(lang);
      const num = say(n);
      const members = num + ' ' + copy.members[new Intl.PluralRules(lang).select(n)];
      const outOf = ' ' + copy.of + ' ' + say(goal);
      // Past the last goal (`goal` is the last one once all are reached), the bar is full and
      // marks the goal at goal/count of its length (as the Guardian's ticker runs past its goal).
      // Else, with a stretch goal as the target, it marks the goal last reached on the target's
      // scale (every goal below the target is met, recorded or not). Without `goals` (an older
      // answer) a count above `goal` is past the only goal.
      const past = n > goal;
      const reached = data.goals?.findLast((g) => g.goal < goal && n < goal)?.goal;
      // (NaN without a mark: falsy, and an invalid length in CSS; never 0, which would show it.)
      at = 100 * (past ? goal / n : reached / goal);

      // The campaign's words in this language if it has them (translations), else its own.
      const words = { ...data, ...data.translations?.[lang] };
      headline.textContent = words.headline; // null and undefined both mean ""
      count.textContent = num + outOf;
      bar.ariaLabel = data.title || copy.label;
      // Past the goal the bar's scale is the count: aria-valuenow must not exceed aria-valuemax.
      bar.ariaValueMax = past ? n : goal;
      bar.ariaValueNow = n;
      // "reached" and "ended" have their own words; so have a stretch goal and a count past the
      // last goal (unless the drive has ended), which the bar's value text says too: the mark is
      // inside the progressbar, whose children assistive tech does not see.
      // Their {placeholders} are numbers: "Goal of {reached} reached! Next: {goal}". (An older
      // answer has neither text: "" says "reached".)
      message.textContent =
        ((data.status != 'ended' && (past ? copy.past : reached && copy.next)) || '').replace(
          /{(\w+)}/g,
          (_, name) => say({ extra: n - goal, reached, goal }[name]),
        ) ||
        copy[data.status] ||
        words.message;
      bar.ariaValueText = members + outOf + (at ? '. ' + message.textContent : '');
      // Only http(s) links: a javascript: URL must never become clickable. Without a link the
      // button stays hidden (a refresh keeps a link once shown: the campaign is the same).
      if (words.cta_label && /^https?:/i.test(data.cta_url)) {
        cta.href = data.cta_url;
        cta.textContent = words.cta_label;
      }
      state(data.status);
      grow();
    });

    const drop = (el._drop = () => {
      near.unobserve(el);
      seen.unobserve(el);
      if (entry && entry._els.delete(el) && !entry._els.size) {
        // Nobody waits for this campaign any more: stop its request (a pending refresh ends itself).
        if (entry._ctl) entry._ctl.abort(); // (0 when idle: not `?.`)
        entry._ctl = 0;
      }
      entry = 0;
    });

    el._near = () => {
      entry = cache[key] ||= { _url: key, _els: new Set() };
      entry._els.add(el);
      // Loaded less than a refresh ago (or loading now): no new request.
      if (!entry._ctl && !entry._timer) load(entry);
      render();
    };

    el._seen = grow;

    el._update = () => {
      const slug = el.getAttribute('campaign');
      let next; // stays empty without a campaign or with an invalid `api` URL: the error state
      try {
        // Slugs are [a-z0-9-] (membership/campaigns.py): nothing to escape.
        next = slug && new URL('api/campaigns/' + slug, el.getAttribute('api') || BASE).href;
      } catch {}
      // Same campaign (a lang change, a move): only the words may change.
      if (next == key && entry) return render();
      drop();
      key = next;
      // The loading skeleton: the final structure with no text (so no digits), at the final height.
      root.replaceChildren();
      own.replaceSync('');
      visible = 0;
      widget = make(root, 'widget', 'div');
      headline = make(widget, 'headline');
      count = make(widget, 'count');
      bar = make(widget, 'bar', 'div');
      // ARIA reflection (role, ariaLabel, ariaValue…) sets the same attributes in fewer bytes.
      bar.role = 'progressbar';
      bar.ariaValueMin = 0;
      // A name before the data (title or `words`) arrives: English only, i18n.py's COPY["en"]
      // ["label"] (a Ukrainian one too would cost ~70 bytes gzipped, over the budget).
      bar.ariaLabel = 'Membership drive';
      make(bar, 'fill', 'div');
      make(bar, 'mark', 'div');
      message = make(widget, 'message');
      cta = make(widget, 'cta', 'a');
      // Cancelable, so a newsroom can open its own checkout instead of following the link.
      cta.onclick = (event) => emit('cta-click') || event.preventDefault();
      // The publisher's fallback children (e.g. a link), shown only in the error state.
      root.append(doc.createElement('slot'));
      // Without a campaign (or with an invalid `api` URL) the error state shows at once; else the
      // skeleton waits to be near the viewport.
      state(key ? (near.observe(el), seen.observe(el), 'loading') : 'error');
    };
  };

  customElements.define(
    TAG,
    class extends HTMLElement {
      static observedAttributes = ['campaign', 'api', 'lang'];

      constructor() {
        super();
        mount(this);
      }

      connectedCallback() {
        this._update();
      }

      attributeChangedCallback(name, old, value) {
        // The same value again (the div form re-syncs on every change to the page) changes nothing.
        if (old != value && this.isConnected) this._update();
      }

      disconnectedCallback() {
        // A move within the page disconnects and reconnects in one task: only a real removal lets go.
        queueMicrotask(() => this.isConnected || this._drop());
      }
    },
  );

  // Some CMSes strip unknown tags: <div data-membership-campaign="SLUG"> gets a <membership-progress>
  // inside it (its children move in as fallback content). The div's attributes stay the source of
  // truth, so an SPA may add such divs and change their campaign at any time.
  const CAMPAIGN = 'data-membership-campaign';
  const API = 'data-membership-api';
  // After any change to the page (one pass per batch of mutations), every such div is in step; its
  // element is made once, and setting an attribute to the value it has changes nothing.
  const upgrade = () =>
    doc.querySelectorAll('[' + CAMPAIGN + ']').forEach((div) => {
      let el = div._progress;
      if (!el) {
        el = div._progress = doc.createElement(TAG);
        el.append(...div.childNodes);
        div.append(el);
      }
      el.setAttribute('campaign', div.getAttribute(CAMPAIGN));
      if (div.getAttribute(API)) el.setAttribute('api', div.getAttribute(API));
    });
  upgrade();
  // Only our two attributes: the element's own `campaign` and `api` must not call us back.
  new MutationObserver(upgrade).observe(doc, {
    childList: true,
    subtree: true,
    attributeFilter: [CAMPAIGN, API],
  });
})();
