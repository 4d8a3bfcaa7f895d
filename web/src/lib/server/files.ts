// A file the API answers, passed on to the browser as it arrives (nothing is
// buffered here): its type and name as the API gave them, never cached, never
// sniffed.

export function passedFile(res: Response, fallback: { contentType: string; fileName: string }): Response {
  const out = new Headers({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  out.set('content-type', res.headers.get('content-type') ?? fallback.contentType);
  out.set('content-disposition', res.headers.get('content-disposition') ?? `attachment; filename="${fallback.fileName}"`);
  return new Response(res.body, { status: 200, headers: out });
}
