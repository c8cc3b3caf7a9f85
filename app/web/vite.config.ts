// SvelteKit 3 takes its configuration here (svelte.config.js is no longer read).
// The UI is a static single-page app: no SSR, one prerendered fallback page that the API serves
// for every client route (app/api/src/http/static.ts).
import adapterStatic from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, type Plugin } from 'vite';

/**
 * SvelteKit's root component renders its route announcer with an inline style attribute, which
 * the API's CSP (style-src 'self', no 'unsafe-inline') blocks (sveltejs/kit#11993, open). This
 * swaps the attribute for a class that src/app.css styles. No-op once SvelteKit drops the style.
 */
function announcerWithoutInlineStyle(): Plugin {
  return {
    name: 'praxiskern:announcer-without-inline-style',
    enforce: 'pre',
    transform(code, id) {
      if (!id.includes('@sveltejs/kit') || !id.endsWith('/root.svelte') || !code.includes('svelte-announcer')) return null;
      const next = code.replace(/(id="svelte-announcer"[^>]*?)\sstyle="[^"]*"/, '$1 class="sk-announcer"');
      return next === code ? null : { code: next, map: null };
    },
  };
}

export default defineConfig({
  plugins: [
    announcerWithoutInlineStyle(),
    sveltekit({
      adapter: adapterStatic({ fallback: 'index.html', strict: true }),
      // Styles always go to CSS files: the API's CSP has no 'unsafe-inline' for style-src.
      inlineStyleThreshold: 0,
      version: { name: process.env.PRAXISKERN_VERSION ?? 'dev' },
    }),
  ],
  server: {
    proxy: { '/api': 'http://localhost:8080' },
  },
});
