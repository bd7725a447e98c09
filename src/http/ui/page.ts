/**
 * The `/ui/` page shell: an empty root, one script and one stylesheet, both
 * served by modelswap (`/ui/app.js`, `/ui/app.css`, bundled from `src/ui/`).
 * No inline script or style, so the CSP allows only `'self'`.
 */

/** Where the UI lives (llama-swap's address; `GET /`, `GET /ui` and browsers asking for `/logs` land here). */
export const UI_PATH = "/ui/";

/** The page: nothing but the mount point and the two assets. */
export const UI_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>modelswap</title>
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/ui/app.css">
</head>
<body>
<div id="root"></div>
<script type="module" src="/ui/app.js"></script>
</body>
</html>
`;

/** Only this server's own script, style, icon and API. */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");
