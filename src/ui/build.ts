/**
 * Bundles the web UI (`src/ui/app/main.tsx` and its CSS) for the browser and
 * prints `{"js","css"}` as JSON. Run by the `bundle.ts` macro at compile
 * time (and at first use when running from source), never by hand.
 *
 * Usage: bun src/ui/build.ts
 */
const result = await Bun.build({
  entrypoints: [new URL("./app/main.tsx", import.meta.url).pathname],
  target: "browser",
  minify: true,
  // One file: no chunk the page would have to know the name of.
  splitting: false,
});
if (!result.success) {
  for (const log of result.logs) console.error(String(log));
  process.exit(1);
}
let js = "";
let css = "";
for (const out of result.outputs) {
  const text = await out.text();
  if (out.path.endsWith(".css")) css += text;
  else if (out.kind === "entry-point" || out.path.endsWith(".js")) js += text;
}
process.stdout.write(JSON.stringify({ js, css }));
