/** Stylesheets are bundled by Bun's bundler into the page's one CSS file. */
declare module "*.css";
