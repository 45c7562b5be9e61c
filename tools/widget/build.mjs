// Builds static/widget.js (committed) from static/widget.src.js.
//   npm ci && npm run build     rewrite static/widget.js
//   npm run check               fail if the committed build is stale (for CI or a pre-commit hook)
import { readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { minify } from 'terser';

const root = new URL('../../static/', import.meta.url);
// The stylesheet is written one rule a line for reading; collapse it (terser leaves strings alone).
const source = readFileSync(new URL('widget.src.js', root), 'utf8').replace(
  /\/\* css \*\/ `([^`]*)`/g,
  (_, css) => '`' + css.replace(/\s*\n\s*/g, '') + '`',
);
const out = new URL('widget.js', root);

const { code } = await minify(source, {
  ecma: 2022,
  compress: {
    passes: 3,
    unsafe: true,
    unsafe_arrows: true,
    unsafe_methods: true,
    unsafe_comps: true,
    unsafe_math: true,
    booleans_as_integers: true,
    pure_getters: true,
  },
  // Internal names start with "_" (see widget.src.js): shortening them is safe because nothing
  // outside the script reads them. Public names (attributes, events, parts) never start with "_".
  mangle: { properties: { regex: /^_/ } },
  format: {
    // Keep any non-ASCII text readable UTF-8 (the widget's words now come from the API, but \u
    // escapes would cost ~4 bytes per letter); the service sends text/javascript; charset=utf-8.
    ascii_only: false,
    comments: false,
  },
});
const built = code + '\n';

if (process.argv.includes('--check')) {
  const committed = readFileSync(out, 'utf8');
  if (committed !== built) {
    console.error('static/widget.js is stale: run `npm run build` in tools/widget');
    process.exit(1);
  }
} else {
  writeFileSync(out, built);
}
const gz = gzipSync(Buffer.from(built), { level: 9 }).length;
const br = brotliCompressSync(Buffer.from(built), {
  params: { [constants.BROTLI_PARAM_QUALITY]: 11 },
}).length;
console.log(`widget.js: ${Buffer.byteLength(built)} bytes, ${gz} gzipped (-9), ${br} brotli (q11)`);
