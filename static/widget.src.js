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
 * Names starting with "_" are internal; the build shortens them.
 */
(() => {
  const TAG = 'membership-progress';
  // Loading the script twice (two snippets on one page, an SPA injecting it again) must be harmless.
  if (customElements.get(TAG)) return;

  const doc = document;
  // The API lives next to the script unless an `api` attribute says otherwise; using the script's
  // directory (not just its origin) keeps a service mounted under a path prefix working.
  const BASE = new URL('.', doc.currentScript?.src || location.href).href;

  // `reached` and `ended` are looked up by the campaign's status; {n} becomes "12,345 members".
  const COPY = {
    en: {
      of: 'out of',
      label: 'Membership drive',
      members: { one: 'member', other: 'members' },
      reached: 'Goal reached! {n} — thank you.',
      ended: 'This drive has ended with {n}. Thank you!',
    },
    uk: {
      of: 'з',
      label: 'Членська кампанія',
      members: { one: 'учасник', few: 'учасники', many: 'учасників', other: 'учасника' },
      reached: 'Мету досягнуто! {n} — дякуємо.',
      ended: 'Кампанію завершено: {n}. Дякуємо!',
    },
  };

  // Every line has a fixed height (text is clamped), so the loading, normal, reached and ended
  // states are exactly as tall as each other (docs/embedding.md gives the height to reserve before
  // the script runs). Colours derive from the inherited text colour, so the widget follows a light
  // or dark host page by itself. Theming: --membership-progress-accent, and ::part() for the rest
  // (a page's ::part rules win over these).
  const SHEET = new CSSStyleSheet();
  SHEET.replaceSync(/* css */ `
:host{display:block;font:inherit;--a:var(--membership-progress-accent,#b3261e)}
.widget{padding:1em 1.25em;border:1px solid color-mix(in srgb,currentColor 20%,#0000);border-radius:.5em}
p{margin:0 0 .5em;line-height:1.35;height:calc(var(--l,1)*1.35em);overflow:hidden;display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:var(--l,1)}
.headline{--l:2;font-size:1.125em;font-weight:700}
.count{font-size:1.25em}
.message{--l:2;margin-bottom:.75em}
.bar{height:.75em;margin-bottom:.75em;border-radius:.4em;overflow:hidden;background:color-mix(in srgb,currentColor 15%,#0000)}
.fill{height:100%;background:var(--a);transform:scaleX(0);transform-origin:0;transition:transform 1.2s ease-out}
.cta{display:block;width:fit-content;max-width:100%;box-sizing:border-box;height:2.5em;padding:0 1.25em;line-height:2.5em;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;border-radius:.5em;background:var(--a);color:#fff;font-weight:700;text-decoration:none}
.cta:not([href]){visibility:hidden}
.loading p,.loading .cta{visibility:visible;background:color-mix(in srgb,currentColor 10%,#0000);border-radius:.25em}
.loading .count{width:60%}
.loading .cta{width:10em}
@media (prefers-reduced-motion:reduce){.fill{transition:none}}
@media (forced-colors:active){.bar,.cta{border:1px solid}.fill{forced-color-adjust:none;background:Highlight}}
`);

  // One entry per API URL, shared by every element showing that campaign:
  // {_url, _els: elements waiting for or showing it, _data, _ctl: AbortController of the request in
  // flight, _timer: next refresh, _wait: a refresh is due but the page is hidden}.
  const cache = new Map();

  const load = (entry) => {
    if (entry._ctl) return;
    const ctl = (entry._ctl = new AbortController());
    // credentials:'omit' and no custom headers: a "simple" request, no cookies, no CORS preflight.
    fetch(entry._url, { credentials: 'omit', signal: ctl.signal })
      .then((r) => (r.ok ? r.json() : Promise.reject(r)))
      .then(
        (data) => {
          entry._data = data;
          entry._els.forEach((el) => el._show());
        },
        // A failed refresh keeps the last good numbers; only a first failure shows the error state.
        () => ctl.signal.aborted || entry._data || entry._els.forEach((el) => el._fail()),
      )
      .finally(() => {
        // An aborted request was already forgotten in _drop(); a newer one may be in flight.
        if (entry._ctl != ctl) return;
        entry._ctl = 0;
        if (entry._els.size) schedule(entry);
      });
  };

  // Refresh no more often than every 60 s, jittered so a newsroom's readers do not all arrive at
  // once, and only while the page is visible.
  const schedule = (entry) => {
    entry._timer = setTimeout(() => {
      entry._timer = 0;
      refresh(entry);
    }, 6e4 * (1 + Math.random() / 2));
  };
  const refresh = (entry) => {
    if (!entry._els.size) return;
    if (doc.hidden) entry._wait = 1;
    else load(entry);
  };
  doc.addEventListener('visibilitychange', () => {
    if (doc.hidden) return;
    cache.forEach((entry) => {
      if (!entry._wait) return;
      entry._wait = 0;
      refresh(entry);
    });
  });

  const subscribe = (el) => {
    let entry = cache.get(el._key);
    if (!entry) cache.set(el._key, (entry = { _url: el._key, _els: new Set() }));
    entry._els.add(el);
    el._entry = entry;
    if (entry._data) el._show();
    if (!entry._ctl && !entry._timer) entry._data ? schedule(entry) : load(entry);
  };

  // Each observer fires once per element (until _update() observes it again).
  const observer = (fn, options) =>
    new IntersectionObserver(
      (records, io) =>
        records.forEach((r) => {
          if (!r.isIntersecting) return;
          io.unobserve(r.target);
          fn(r.target);
        }),
      options,
    );
  // Fetch a little before the widget scrolls into view; grow the bar once it is really seen.
  const near = observer((el) => el._key && subscribe(el), { rootMargin: '50% 0px' });
  const seen = observer(
    (el) => {
      el._seen = 1;
      el._grow();
    },
    { threshold: 0.5 },
  );

  const attr = (el, name, value) => el.setAttribute(name, value);

  const make = (parent, tag, part) => {
    const el = doc.createElement(tag);
    if (part) {
      el.className = part;
      attr(el, 'part', part);
    }
    parent.append(el);
    return el;
  };

  const pickLang = (el, campaignLocale) =>
    [el.closest('[lang]')?.lang, doc.documentElement.lang, campaignLocale]
      .map((tag) => (tag || '').split('-')[0].toLowerCase())
      .find((lang) => COPY[lang]) || 'en';

  class MembershipProgress extends HTMLElement {
    static observedAttributes = ['campaign', 'api', 'lang'];

    constructor() {
      super();
      this._key = '';
      // Per-instance sheet: the only per-element style is the bar's length.
      this._own = new CSSStyleSheet();
      this.attachShadow({ mode: 'open' }).adoptedStyleSheets = [SHEET, this._own];
    }

    connectedCallback() {
      this._update();
    }

    disconnectedCallback() {
      // A move within the page disconnects and reconnects in one task: only a real removal lets go.
      queueMicrotask(() => this.isConnected || this._drop());
    }

    attributeChangedCallback(name) {
      if (!this.isConnected) return;
      if (name != 'lang') this._update();
      else if (this._entry?._data) this._show();
    }

    _update() {
      const slug = this.getAttribute('campaign');
      const api = this.getAttribute('api');
      let key = '';
      try {
        // `api` is an absolute URL (an origin, or a path under one); invalid means the error state.
        const base = api ? api.replace(/\/?$/, '/') : BASE;
        if (slug) key = new URL('api/campaigns/' + encodeURIComponent(slug), base).href;
      } catch {}
      if (key == this._key && this._widget) return;
      this._drop();
      this._key = key;
      this._reset();
      if (!key) return this._fail();
      near.observe(this);
      seen.observe(this);
    }

    _drop() {
      near.unobserve(this);
      seen.unobserve(this);
      const entry = this._entry;
      this._entry = this._key = '';
      if (!entry) return;
      entry._els.delete(this);
      if (entry._els.size) return;
      // Nobody waits for this campaign any more: stop the request and the refreshes.
      if (entry._ctl) entry._ctl.abort();
      clearTimeout(entry._timer);
      entry._ctl = entry._timer = entry._wait = 0;
    }

    // The loading skeleton: the final structure with no text, so it has the final height.
    _reset() {
      const root = this.shadowRoot;
      root.replaceChildren();
      this._own.replaceSync('');
      this._seen = this._told = 0;
      const widget = (this._widget = make(root, 'div', 'widget'));
      this._headline = make(widget, 'p', 'headline');
      this._count = make(widget, 'p', 'count');
      const bar = (this._bar = make(widget, 'div', 'bar'));
      attr(bar, 'role', 'progressbar');
      attr(bar, 'aria-valuemin', 0);
      attr(bar, 'aria-label', COPY[pickLang(this)].label);
      make(bar, 'div', 'fill');
      this._message = make(widget, 'p', 'message');
      this._cta = make(widget, 'a', 'cta');
      // Cancelable, so a newsroom can open its own checkout instead of following the link.
      this._cta.onclick = (event) => this._emit('cta-click') || event.preventDefault();
      // Publisher's fallback children (e.g. server-rendered numbers), shown only in the error state.
      this._fallback = make(root, 'slot');
      this._state('loading');
    }

    _state(state) {
      this._widget.className = 'widget ' + state;
      this._widget.hidden = state == 'error';
      this._fallback.hidden = state != 'error';
    }

    _fail() {
      this._state('error');
    }

    _show() {
      const data = this._entry._data;
      const count = data.count;
      const goal = data.goal;
      if (!Number.isFinite(count) || !(goal > 0)) return this._fail();
      const lang = pickLang(this, data.locale);
      const copy = COPY[lang];
      const num = new Intl.NumberFormat(lang).format;
      const members = num(count) + ' ' + copy.members[new Intl.PluralRules(lang).select(count)];
      const outOf = ' ' + copy.of + ' ' + num(goal);

      this._headline.textContent = data.headline || '';
      const value = make(this._count, 'b', 'value'); // <b>: bold without a rule
      value.textContent = num(count);
      this._count.replaceChildren(value, outOf);

      const bar = this._bar;
      attr(bar, 'aria-label', data.title || copy.label);
      attr(bar, 'aria-valuemax', goal);
      attr(bar, 'aria-valuenow', count);
      attr(bar, 'aria-valuetext', members + outOf);

      const own = copy[data.status]; // status "reached" or "ended" has its own copy
      this._message.textContent = own ? own.replace('{n}', members) : data.message || '';

      const cta = this._cta;
      // Only http(s) links: a javascript: URL must never become clickable.
      if (data.cta_label && /^https?:/i.test(data.cta_url)) {
        cta.href = data.cta_url;
        cta.textContent = data.cta_label;
      } else {
        cta.removeAttribute('href');
        cta.textContent = '';
      }
      this._state(data.status);
      this._grow();
    }

    // The number is right from its first frame; the bar grows into place once the reader sees it
    // (at once under prefers-reduced-motion, where the stylesheet drops the transition).
    _grow() {
      const data = this._entry?._data;
      if (!this._seen || !data || this._widget.hidden) return;
      const share = Math.min(Math.max(data.count / data.goal, 0), 1);
      this._own.replaceSync('.fill{transform:scaleX(' + share + ')}');
      if (this._told) return;
      this._told = 1;
      this._emit('shown');
    }

    _emit(name) {
      const data = this._entry._data;
      return this.dispatchEvent(
        new CustomEvent(TAG + ':' + name, {
          bubbles: true,
          composed: true,
          cancelable: true,
          detail: { campaign: this.getAttribute('campaign'), count: data.count, goal: data.goal },
        }),
      );
    }
  }
  customElements.define(TAG, MembershipProgress);

  // Some CMSes strip unknown tags: <div data-membership-campaign="SLUG"> gets a <membership-progress>
  // inside it (its children move in as fallback content). The div's attributes stay the source of
  // truth, so an SPA may add, change or remove such divs at any time.
  const CAMPAIGN = 'data-membership-campaign';
  const API = 'data-membership-api';
  const upgrade = (node) => {
    if (!node.querySelectorAll) return;
    if (node.matches('[' + CAMPAIGN + ']')) {
      let el = node._progress;
      if (!el) {
        el = node._progress = doc.createElement(TAG);
        el.append(...node.childNodes);
      }
      attr(el, 'campaign', node.getAttribute(CAMPAIGN));
      if (node.hasAttribute(API)) attr(el, 'api', node.getAttribute(API));
      if (!el.parentNode) node.append(el);
    }
    node.querySelectorAll('[' + CAMPAIGN + ']').forEach(upgrade);
  };
  upgrade(doc.documentElement);
  new MutationObserver((records) =>
    records.forEach((r) => (r.attributeName ? upgrade(r.target) : r.addedNodes.forEach(upgrade))),
  ).observe(doc.documentElement, { childList: true, subtree: true, attributeFilter: [CAMPAIGN, API] });
})();
