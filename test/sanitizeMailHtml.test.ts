// The console's sanitizer of inbound mail HTML (web/src/lib/server/mailHtml.ts):
// what runs or loads is gone, links are made safe to open, images are
// blocked, and the mail's text and simple layout stay.
import { IMAGE_BLOCKED, sanitizeMailHtml } from '../web/src/lib/server/mailHtml';

describe('sanitizeMailHtml', () => {
  it('drops scripts, styles and event handlers, keeping the text and simple markup', () => {
    const out = sanitizeMailHtml(
      '<p onclick="steal()">Hi <b>there</b><script>window.pwned = 1</script><style>p { color: red }</style></p><noscript>x</noscript>',
    );
    expect(out).toBe('<p>Hi <b>there</b></p>');
  });

  it('replaces every image, remote or not, with a placeholder, and its handlers with nothing', () => {
    const out = sanitizeMailHtml(
      '<img src=x onerror="window.pwned=1">Logo: <img src="https://tracker.example/p.png?u=1" alt="logo"> <img src="data:image/png;base64,AAAA">',
    );
    expect(out).toBe(`<span>${IMAGE_BLOCKED}</span>Logo: <span>${IMAGE_BLOCKED}</span> <span>${IMAGE_BLOCKED}</span>`);
    expect(out).not.toMatch(/src=|onerror|tracker/);
  });

  it('keeps http(s) and mailto links, opening apart and telling nothing; drops javascript:, data: and protocol-relative targets', () => {
    const safe = 'target="_blank" rel="noopener noreferrer nofollow"';
    expect(sanitizeMailHtml('<a href="https://ex.example/x" target="_self" rel="opener">ok</a>')).toBe(`<a href="https://ex.example/x" ${safe}>ok</a>`);
    expect(sanitizeMailHtml('<a href="mailto:a@ex.example">mail</a>')).toBe(`<a href="mailto:a@ex.example" ${safe}>mail</a>`);
    for (const href of ['javascript:alert(1)', 'java&#x73;cript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,<script>x</script>', '//evil.example/x']) {
      expect(sanitizeMailHtml(`<a href="${href}">x</a>`)).toBe(`<a ${safe}>x</a>`);
    }
  });

  it('drops what could load, submit, frame or restyle the console: style, class, id, forms, frames, SVG, meta and a title', () => {
    const out = sanitizeMailHtml(
      '<html><head><title>T</title><meta http-equiv="refresh" content="0;url=https://x.example"><base href="https://x.example/"></head>' +
        '<body><div style="background:url(https://x.example/i.png)" class="error" id="content">body</div><iframe src="https://x.example"></iframe>' +
        '<form action="https://x.example"><input name="p"><button>Go</button></form><svg><image href="https://x.example/i.png"/></svg><object data="x"></object></body></html>',
    );
    expect(out).toBe('<div>body</div>Go');
  });

  // Each on its own, so a loosened option shows which door it opened.
  it.each([
    ['a style that loads a remote image', '<p style="background:url(http://x.example/i.png)">t</p>', '<p>t</p>'],
    ['an SVG with onload', '<svg onload="window.pwned=1"><circle r="1"/></svg>t', 't'],
    [
      'a base href that re-points relative links',
      '<base href="https://x.example/"><a href="/p">t</a>',
      '<a target="_blank" rel="noopener noreferrer nofollow">t</a>',
    ],
    ['a meta refresh', '<meta http-equiv="refresh" content="0;url=https://x.example">t', 't'],
    ['a form that submits elsewhere', '<form action="https://x.example/steal" method="post"><input name="p" value="v"><button>Go</button></form>', 'Go'],
    ['an image srcset', '<img srcset="https://x.example/a.png 1x, https://x.example/b.png 2x">', `<span>${IMAGE_BLOCKED}</span>`],
    ['srcset on a picture source', '<picture><source srcset="https://x.example/a.webp"></picture>t', 't'],
    ['a stylesheet link', '<link rel="stylesheet" href="https://x.example/s.css">t', 't'],
    ['an iframe', '<iframe src="https://x.example" srcdoc="<script>x</script>">inner</iframe>t', 't'],
    ['an object', '<object data="https://x.example/x.swf" type="application/x-shockwave-flash"><param name="a" value="b"></object>t', 't'],
  ])('removes %s', (_, html, expected) => {
    const out = sanitizeMailHtml(html);
    expect(out).toBe(expected);
    expect(out).not.toMatch(/x\.example|style=|onload|srcset|<(svg|base|meta|form|input|link|iframe|object|param|source|picture)\b/i);
  });

  it('keeps tables, lists, quotes and line breaks of an ordinary reply', () => {
    const html =
      '<div>Thanks!<br></div><blockquote><p>On Monday you wrote:</p><ul><li>one</li></ul></blockquote><table><tbody><tr><td colspan="2">cell</td></tr></tbody></table>';
    expect(sanitizeMailHtml(html)).toBe(
      '<div>Thanks!<br /></div><blockquote><p>On Monday you wrote:</p><ul><li>one</li></ul></blockquote><table><tbody><tr><td colspan="2">cell</td></tr></tbody></table>',
    );
  });
});
