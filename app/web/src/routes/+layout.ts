// Static single-page app: everything renders in the browser; the fallback page is prerendered.
export const ssr = false;
export const prerender = false;
