import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { I18nextProvider } from "react-i18next";
import { App } from "./App";
import { i18n } from "./i18n";
import "./styles.css";

// The benchmarks' build only (src/bench-hook.ts); the production build drops this branch and the module.
if (import.meta.env.MODE === "bench") void import("./bench-hook");

const root = document.getElementById("root");
if (!root) throw new Error("the page has no #root element");
createRoot(root).render(
  <StrictMode>
    <I18nextProvider i18n={i18n}>
      <App />
    </I18nextProvider>
  </StrictMode>,
);
