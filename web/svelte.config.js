import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ out: 'build' }),
    // A strict policy on every page (docs/security.md, "Browser and deployment
    // defenses"): script only from this origin or SvelteKit's own inline
    // bootstrap, which carries a per-response nonce — an injected inline
    // script or event handler does not run. Styles allow inline `style`
    // attributes (components set widths with them); style cannot run code.
    // form-action is left open: without JavaScript a form's answer may
    // redirect to Stripe's checkout or onboarding, and the policy would stop it.
    csp: {
      mode: 'nonce',
      directives: {
        'default-src': ['self'],
        'script-src': ['self'],
        'style-src': ['self', 'unsafe-inline'],
        'img-src': ['self', 'data:'],
        'font-src': ['self'],
        'connect-src': ['self'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'frame-ancestors': ['none'],
      },
    },
  },
};
