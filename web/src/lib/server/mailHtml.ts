// Inbound mail's HTML, made safe to show inside the console (docs/console.md,
// "Replies"). A reply's HTML is written by whoever sent it: it is cut down on
// the server to a small set of text and layout tags before any browser sees
// it. Nothing that runs survives (scripts, styles, event handlers,
// `javascript:` and `data:` URLs, forms, frames), links open apart from the
// console and tell the other site nothing, and no image loads: a remote image
// tells the sender that and when the mail was read (a tracking pixel), and
// the console's CSP would refuse it anyway — each becomes "[image blocked]".
import sanitizeHtml from 'sanitize-html';

const ALLOWED_TAGS = [
  'p',
  'br',
  'div',
  'span',
  'b',
  'strong',
  'i',
  'em',
  'u',
  's',
  'strike',
  'small',
  'sub',
  'sup',
  'blockquote',
  'pre',
  'code',
  'ul',
  'ol',
  'li',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'a',
  'table',
  'caption',
  'thead',
  'tbody',
  'tfoot',
  'tr',
  'th',
  'td',
];

export const IMAGE_BLOCKED = '[image blocked]';

/** A link with a scheme the sanitizer then checks (http, https, mailto); anything else is relative. */
const ABSOLUTE = /^\s*[a-z][a-z0-9+.-]*:/i;

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [...ALLOWED_TAGS, 'img'],
  // No style, class or id: a style may load a remote image (url(…)) and a
  // class or id may borrow or clobber the console's own.
  allowedAttributes: { a: ['href', 'title', 'target', 'rel'], td: ['colspan', 'rowspan', 'align'], th: ['colspan', 'rowspan', 'align'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  // The text of these is not the mail's text (a document's title, its code, its styles).
  // An iframe's content is raw text browsers never show.
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'head', 'template', 'iframe'],
  disallowedTagsMode: 'discard',
  transformTags: {
    // Only an absolute link is kept: a relative one would open the console's
    // own pages (a mail's <base> is dropped), dressed as the sender's link.
    a: (tagName, { href, ...attribs }) => ({
      tagName,
      attribs: { ...(href !== undefined && ABSOLUTE.test(href) ? { href } : {}), ...attribs, target: '_blank', rel: 'noopener noreferrer nofollow' },
    }),
    img: () => ({ tagName: 'span', attribs: {}, text: IMAGE_BLOCKED }),
  },
};

/** The mail's HTML, sanitized: safe to render with {@html} under the console's CSP. */
export function sanitizeMailHtml(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}
