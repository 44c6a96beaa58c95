import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // No inline scripts or styles anywhere: the relay's Content-Security-Policy forbids them.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    // The MLS engine and its ciphersuites make one ~600 kB bundle; it is cached and loaded once. The
    // three languages' catalogues and i18next add about 60 kB.
    chunkSizeWarningLimit: 1000,
  },
  server: { port: 5173 },
});
